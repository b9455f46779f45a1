package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.safeload.testing.RawFiles;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;

/** The writer against the reference's golden byte vectors (docs/safetensors.md §1.6). */
class WriterGoldenTest {
    private static byte[] expected(String header, int n, byte[] data) {
        byte[] h = Arrays.copyOf(header.getBytes(StandardCharsets.UTF_8), n);
        Arrays.fill(h, header.length(), n, (byte) ' ');
        return RawFiles.of(h, data);
    }

    @Test
    void emptyDictIsSixteenBytes() {
        byte[] out = SafetensorsWriter.create().toByteArray();
        assertArrayEquals(expected("{}", 8, new byte[0]), out);
        assertEquals(16, out.length);
    }

    @Test
    void emptyWithMetadata() {
        byte[] out = SafetensorsWriter.create().metadata(Map.of("framework", "pt")).toByteArray();
        assertArrayEquals(
                expected("{\"__metadata__\":{\"framework\":\"pt\"}}", 40, new byte[0]), out);
    }

    @Test
    void attnF32ExactlySixtyFourBytesUnpadded() {
        byte[] data = RawFiles.f32(0, 1, 2, 3, 4, 5);
        byte[] out =
                SafetensorsWriter.create()
                        .add("attn.0", DType.F32, new long[] {1, 2, 3}, data)
                        .toByteArray();
        String h = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
        assertEquals(64, h.length());
        assertArrayEquals(expected(h, 64, data), out);
    }

    @Test
    void bf16Golden() {
        byte[] data = HexFormat.of().parseHex("1040803f803f803f");
        byte[] out =
                SafetensorsWriter.create()
                        .add("test", DType.BF16, new long[] {2, 2}, data)
                        .toByteArray();
        assertArrayEquals(
                expected(
                        "{\"test\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}",
                        64,
                        data),
                out);
    }

    @Test
    void dtypeOrderThenNameAndDataStartsAligned() {
        byte[] out =
                SafetensorsWriter.create()
                        .add("test2", DType.F16, new long[] {2, 2}, new byte[8])
                        .add("test1", DType.I32, new long[] {2, 2}, new byte[16])
                        .toByteArray();
        String h =
                "{\"test1\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                        + "\"test2\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[16,24]}}";
        assertEquals(122, h.length());
        assertArrayEquals(expected(h, 128, new byte[24]), out);
        assertEquals(136, 8 + 128);
    }

    @Test
    void f4GoldenAndRoundTrip() {
        byte[] out =
                SafetensorsWriter.create()
                        .add("attn.0", DType.F4, new long[] {1, 2}, new byte[] {0x21})
                        .toByteArray();
        String h = "{\"attn.0\":{\"dtype\":\"F4\",\"shape\":[1,2],\"data_offsets\":[0,1]}}";
        assertEquals(60, h.length());
        assertArrayEquals(expected(h, 64, new byte[] {0x21}), out);
        SafetensorsHeader header = SafetensorsHeader.read(out);
        assertEquals(DType.F4, header.tensors().getFirst().dtype());
    }
}
