package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.testing.RawFiles;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** Each limit can be tightened and loosened, and a violation names the limit. */
class SafetensorsLimitsTest {
    @TempDir Path dir;

    private static byte[] tensors(int n) {
        SafetensorsWriter w = SafetensorsWriter.create();
        for (int i = 0; i < n; i++) {
            w.add("t" + i, DType.U8, new long[] {1}, new byte[1]);
        }
        return w.toByteArray();
    }

    @Test
    void defaultsAreTheReferences() {
        assertEquals(100_000_000L, SafetensorsLimits.DEFAULT.maxHeaderBytes());
        assertEquals(128, SafetensorsLimits.DEFAULT.maxJsonDepth());
        assertEquals(SafetensorsLimits.DEFAULT, SafetensorsLimits.builder().build());
    }

    @Test
    void tensorCount() {
        byte[] file = tensors(10);
        SafetensorsLimits nine = SafetensorsLimits.builder().maxTensors(9).build();
        SafetensorsException e =
                assertThrows(
                        SafetensorsException.class,
                        () -> SafetensorsHeader.read(MemorySegment.ofArray(file), nine));
        assertEquals(SafetensorsError.HeaderTooLarge, e.kind());
        assertTrue(e.getMessage().contains("maxTensors"), e.getMessage());
        assertEquals(
                10,
                SafetensorsHeader.read(
                                MemorySegment.ofArray(file), nine.rebuild().maxTensors(10).build())
                        .tensors()
                        .size());
    }

    @Test
    void headerBytesThroughAFile() {
        byte[] file = tensors(3);
        Path p = RawFiles.write(dir, "x.safetensors", file);
        long n = SafetensorsHeader.read(file).headerLength();
        ReadOptions tight =
                ReadOptions.of(ReadOptions.Backend.PREAD)
                        .withLimits(SafetensorsLimits.builder().maxHeaderBytes(n - 1).build());
        SafetensorsException e =
                assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p, tight));
        assertEquals(SafetensorsError.HeaderTooLarge, e.kind());
        assertTrue(e.getMessage().contains("maxHeaderBytes"), e.getMessage());
        try (SafetensorsFile f =
                SafetensorsFile.open(
                        p,
                        tight.withLimits(SafetensorsLimits.builder().maxHeaderBytes(n).build()))) {
            assertEquals(3, f.tensors().size());
        }
    }

    @Test
    void jsonDepthCanBeRaisedAboveTheReferences() {
        String deep =
                "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":"
                        + "[".repeat(200)
                        + "]".repeat(200)
                        + "}}";
        byte[] file = RawFiles.of(deep, new byte[1]);
        assertEquals(
                SafetensorsError.InvalidHeaderDeserialization,
                assertThrows(SafetensorsException.class, () -> SafetensorsHeader.read(file))
                        .kind());
        SafetensorsLimits deeper = SafetensorsLimits.builder().maxJsonDepth(300).build();
        assertEquals(
                1, SafetensorsHeader.read(MemorySegment.ofArray(file), deeper).tensors().size());
    }

    @Test
    void nonsenseLimitsAreRefused() {
        assertThrows(
                IllegalArgumentException.class,
                () -> SafetensorsLimits.builder().maxHeaderBytes(1L << 40).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> SafetensorsLimits.builder().maxTensors(-1).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> SafetensorsLimits.builder().maxJsonDepth(2).build());
    }
}
