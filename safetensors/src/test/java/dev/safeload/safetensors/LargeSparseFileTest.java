package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.testing.RawFiles;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A file larger than 4 GiB (sparse: only the written pages take disk space) with a tensor that
 * starts beyond 4 GiB: the whole file is one mapping with long offsets, no 2 GiB windows.
 */
class LargeSparseFileTest {
    private static final long BIG =
            (4L << 30) + 13; // an odd size: the tensor after it is unaligned

    @TempDir Path dir;

    @ParameterizedTest
    @EnumSource(ReadOptions.Backend.class)
    void tensorBeyondFourGibIsRead(ReadOptions.Backend backend) throws Exception {
        String json =
                "{\"big\":{\"dtype\":\"U8\",\"shape\":["
                        + BIG
                        + "],\"data_offsets\":[0,"
                        + BIG
                        + "]},"
                        + "\"tail\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":["
                        + BIG
                        + ","
                        + (BIG + 12)
                        + "]}}";
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        Path p = dir.resolve("big.safetensors");
        long dataStart = 8 + header.length;
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(dataStart + BIG + 12);
            f.write(RawFiles.withLength(header.length, header));
            f.seek(dataStart + BIG - 2);
            f.write(new byte[] {42, 43});
            f.write(RawFiles.f32(1.5f, -2.5f, 1e30f));
        }
        assertTrue(Files.size(p) > 4L << 30);
        try (SafetensorsFile file = SafetensorsFile.open(p, ReadOptions.of(backend));
                Arena arena = Arena.ofConfined()) {
            TensorInfo tail = file.info("tail");
            assertEquals(BIG, tail.begin());
            MemorySegment dst = arena.allocate(12);
            file.readBytes(tail, 0, dst);
            assertArrayEquals(
                    new float[] {1.5f, -2.5f, 1e30f}, dst.toArray(ValueLayout.JAVA_FLOAT));
            MemorySegment end = arena.allocate(2);
            file.readBytes(file.info("big"), BIG - 2, end);
            assertArrayEquals(new byte[] {42, 43}, end.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(-2.5f, file.tensor("tail").getFloat(1));
            if (backend == ReadOptions.Backend.MMAP) {
                TensorView big = file.tensor("big");
                assertEquals(BIG, big.segment().byteSize());
                assertEquals(43, big.getLong(BIG - 1));
                assertEquals(0, big.getLong(3L << 30)); // a hole reads as zeros
                assertEquals(file.fileSize(), file.dataStart() + file.dataSegment().byteSize());
                TensorView sliced = big.slice((BIG - 2) + ":");
                assertEquals(2, sliced.byteSize());
                assertEquals(
                        big.segment().address() + BIG - 2,
                        sliced.segment().address(),
                        "a contiguous slice is a view");
            }
        }
    }
}
