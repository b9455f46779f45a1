package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.testing.RawFiles;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** What every read backend must do; {@link MmapReaderTest} and {@link PreadReaderTest} run it. */
abstract class AbstractReaderContractTest {
    @TempDir Path dir;

    abstract ReadOptions.Backend backend();

    SafetensorsFile open(Path p) {
        return SafetensorsFile.open(p, ReadOptions.of(backend()));
    }

    private Path sample() {
        byte[] a = RawFiles.f32(0, 1, 2, 3, 4, 5);
        byte[] b = new byte[] {1, 0, 2, 0, 3, 0};
        return RawFiles.write(
                dir,
                "s.safetensors",
                SafetensorsWriter.create()
                        .metadata(Map.of("format", "pt"))
                        .add("attn.0", DType.F32, new long[] {1, 2, 3}, a)
                        .add("idx", DType.I16, new long[] {3}, b)
                        .add("empty", DType.F16, new long[] {0, 5}, new byte[0])
                        .toByteArray());
    }

    @Test
    void readsHeaderMetadataAndTensorsInOffsetOrder() {
        try (SafetensorsFile f = open(sample())) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertTrue(f.hasMetadata());
            // Writer order: dtype descending (F32, F16, I16), so the empty F16 sits between.
            assertEquals(List.of("attn.0", "empty", "idx"), f.tensorNames());
            TensorInfo a = f.info("attn.0");
            assertEquals(DType.F32, a.dtype());
            assertArrayEquals(new long[] {1, 2, 3}, a.shape());
            assertEquals(0, a.begin());
            assertEquals(24, a.end());
            assertEquals(6, a.elementCount());
            assertEquals(8 + f.header().headerLength(), f.dataStart());
            assertEquals(0, f.dataStart() % 8);
        }
    }

    @Test
    void tensorViewsHaveValues() {
        try (SafetensorsFile f = open(sample())) {
            TensorView a = f.tensor("attn.0");
            assertEquals(5.0f, a.getFloat(0, 1, 2));
            assertEquals(3.0, a.getDouble(0, 1, 0));
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, a.toFloatArray());
            TensorView i = f.tensor("idx");
            assertEquals(3, i.getLong(2));
            TensorView e = f.tensor("empty");
            assertEquals(0, e.byteSize());
            assertArrayEquals(new long[] {0, 5}, e.shape());
        }
    }

    @Test
    void readBytesCopiesAnyRangeIntoAnySegment() {
        try (SafetensorsFile f = open(sample());
                Arena arena = Arena.ofConfined()) {
            TensorInfo a = f.info("attn.0");
            MemorySegment dst = arena.allocate(8);
            f.readBytes(a, 12, dst);
            assertEquals(3.0f, dst.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0));
            assertEquals(4.0f, dst.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4));
            byte[] heap = new byte[24];
            f.readBytes(a, 0, MemorySegment.ofArray(heap));
            assertArrayEquals(RawFiles.f32(0, 1, 2, 3, 4, 5), heap);
            float[] floats = new float[2];
            f.readBytes(a, 16, MemorySegment.ofArray(floats));
            assertArrayEquals(new float[] {4, 5}, floats);
            assertThrows(
                    IndexOutOfBoundsException.class, () -> f.readBytes(a, 20, arena.allocate(8)));
            assertThrows(
                    IndexOutOfBoundsException.class, () -> f.readBytes(a, -1, arena.allocate(1)));
        }
    }

    @Test
    void unknownTensorIsTensorNotFound() {
        try (SafetensorsFile f = open(sample())) {
            SafetensorsException e =
                    assertThrows(SafetensorsException.class, () -> f.tensor("nope"));
            assertEquals(SafetensorsError.TensorNotFound, e.kind());
            assertTrue(e.getMessage().contains("nope"));
        }
    }

    @Test
    void closedFileFailsFast() {
        SafetensorsFile f = open(sample());
        TensorView v = f.tensor("attn.0");
        TensorInfo info = f.info("attn.0");
        f.close();
        f.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> v.getFloat(0, 0, 0));
        assertThrows(
                IllegalStateException.class,
                () -> f.readBytes(info, 0, MemorySegment.ofArray(new byte[4])));
    }

    @Test
    void noMetadataAndNullMetadataAreDistinguished() {
        Path none = RawFiles.write(dir, "none.safetensors", RawFiles.of("{}", new byte[0]));
        Path nul =
                RawFiles.write(
                        dir,
                        "null.safetensors",
                        RawFiles.of("{\"__metadata__\":null}", new byte[0]));
        Path empty =
                RawFiles.write(
                        dir,
                        "empty.safetensors",
                        RawFiles.of("{\"__metadata__\":{}}", new byte[0]));
        try (SafetensorsFile a = open(none);
                SafetensorsFile b = open(nul);
                SafetensorsFile c = open(empty)) {
            assertFalse(a.hasMetadata());
            assertFalse(b.hasMetadata());
            assertTrue(c.hasMetadata());
            assertTrue(c.metadata().isEmpty());
        }
    }

    @Test
    void unalignedTensorsAreRead() {
        // U8 of length 3 first, so the F32 after it starts at data offset 3 (third-party files do
        // this).
        byte[] data = RawFiles.concat(new byte[] {7, 8, 9}, RawFiles.f32(1.5f, -2.25f));
        String json =
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[3,11]}}";
        try (SafetensorsFile f =
                open(RawFiles.write(dir, "u.safetensors", RawFiles.of(json, data)))) {
            assertEquals(-2.25f, f.tensor("b").getFloat(1));
            assertEquals(9, f.tensor("a").getLong(2));
        }
    }

    @Test
    void manyThreadsReadOneOpenFile() throws Exception {
        int tensors = 64;
        int elems = 4096;
        SafetensorsWriter w = SafetensorsWriter.create();
        for (int t = 0; t < tensors; t++) {
            float[] v = new float[elems];
            for (int i = 0; i < elems; i++) {
                v[i] = t * 100_000 + i;
            }
            w.add("t" + t, DType.F32, new long[] {elems}, RawFiles.f32(v));
        }
        Path p = dir.resolve("many.safetensors");
        w.write(p);
        try (SafetensorsFile f = open(p);
                ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<Integer>> results = new ArrayList<>();
            for (int k = 0; k < 16; k++) {
                int seed = k;
                Callable<Integer> task =
                        () -> {
                            Random r = new Random(seed);
                            int checked = 0;
                            try (Arena arena = Arena.ofConfined()) {
                                MemorySegment buf = arena.allocate(elems * 4L);
                                for (int round = 0; round < 200; round++) {
                                    int t = r.nextInt(tensors);
                                    int off = r.nextInt(elems);
                                    int len = 1 + r.nextInt(elems - off);
                                    TensorInfo info = f.info("t" + t);
                                    MemorySegment dst = buf.asSlice(0, len * 4L);
                                    f.readBytes(info, off * 4L, dst);
                                    for (int i = 0; i < len; i += 97) {
                                        assertEquals(
                                                t * 100_000 + off + i,
                                                dst.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                                    }
                                    assertEquals(
                                            t * 100_000 + r.nextInt(elems) * 0 + 5,
                                            f.tensor("t" + t).getFloat(5));
                                    checked++;
                                }
                            }
                            return checked;
                        };
                results.add(pool.submit(task));
            }
            int total = 0;
            for (Future<Integer> r : results) {
                total += r.get();
            }
            assertEquals(16 * 200, total);
        }
    }
}
