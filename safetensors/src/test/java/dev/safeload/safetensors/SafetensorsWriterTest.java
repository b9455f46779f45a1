package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.safeload.testing.RawFiles;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** What the writer refuses, and how it replaces files. */
class SafetensorsWriterTest {
    @TempDir Path dir;

    private static SafetensorsError kindOf(Runnable r) {
        return assertThrows(SafetensorsException.class, r::run).kind();
    }

    @Test
    void refusesWhatNoReaderCouldReadBack() {
        assertEquals(
                SafetensorsError.InvalidWrite,
                kindOf(
                        () ->
                                SafetensorsWriter.create()
                                        .add(
                                                "__metadata__",
                                                DType.U8,
                                                new long[] {1},
                                                new byte[1])));
        assertEquals(
                SafetensorsError.InvalidWrite,
                kindOf(() -> SafetensorsWriter.create().metadata(Map.of()).toByteArray()),
                "the reference writes `{},\"__metadata__\":{}}` here");
        assertEquals(
                SafetensorsError.InvalidWrite,
                kindOf(
                        () ->
                                SafetensorsWriter.create()
                                        .add("bad\ud800", DType.U8, new long[] {1}, new byte[1])));
        assertEquals(
                SafetensorsError.InvalidWrite,
                kindOf(() -> SafetensorsWriter.create().metadata(Map.of("k", "\udc00"))));
        assertEquals(
                SafetensorsError.InvalidWrite,
                kindOf(
                        () ->
                                SafetensorsWriter.create()
                                        .add("a", DType.U8, new long[] {1}, new byte[1])
                                        .add("a", DType.U8, new long[] {1}, new byte[1])));
        assertEquals(
                SafetensorsError.TensorInvalidInfo,
                kindOf(
                        () ->
                                SafetensorsWriter.create()
                                        .add("a", DType.F32, new long[] {2}, new byte[4])));
        assertEquals(
                SafetensorsError.MisalignedSlice,
                kindOf(
                        () ->
                                SafetensorsWriter.create()
                                        .add("a", DType.F4, new long[] {3}, new byte[2])));
        assertEquals(
                SafetensorsError.ValidationOverflow,
                kindOf(
                        () ->
                                SafetensorsWriter.create()
                                        .add(
                                                "a",
                                                DType.F32,
                                                new long[] {1L << 62, 4},
                                                new byte[0])));
        // Empty metadata is fine once there is a tensor: the reference's output is valid then.
        byte[] ok =
                SafetensorsWriter.create()
                        .metadata(Map.of())
                        .add("a", DType.U8, new long[] {1}, new byte[1])
                        .toByteArray();
        assertEquals(Map.of(), SafetensorsHeader.read(ok).metadata());
    }

    @Test
    void headerOverTheLimitIsHeaderTooLarge() {
        SafetensorsLimits small = SafetensorsLimits.builder().maxHeaderBytes(64).build();
        SafetensorsWriter w =
                SafetensorsWriter.create().limits(small).metadata(Map.of("a", "x".repeat(100)));
        assertEquals(SafetensorsError.HeaderTooLarge, kindOf(w::toByteArray));
        assertEquals(
                SafetensorsError.HeaderTooLarge,
                kindOf(() -> w.write(dir.resolve("x.safetensors"))));
    }

    @Test
    void outputDoesNotDependOnInsertionOrder() {
        Map<String, DType> tensors = new HashMap<>();
        String[] names = {"b", "a", "c", "aa", "\u00e9", "B", "z0"};
        DType[] types = {
            DType.F32, DType.F32, DType.U8, DType.BF16, DType.I64, DType.F4, DType.BOOL
        };
        for (int i = 0; i < names.length; i++) {
            tensors.put(names[i], types[i]);
        }
        byte[] first = null;
        for (int rotation = 0; rotation < names.length; rotation++) {
            SafetensorsWriter w = SafetensorsWriter.create();
            for (int i = 0; i < names.length; i++) {
                String n = names[(i + rotation) % names.length];
                DType d = tensors.get(n);
                w.add(n, d, new long[] {2}, new byte[(int) d.byteSize(2)]);
            }
            byte[] bytes = w.toByteArray();
            if (first == null) {
                first = bytes;
            }
            assertArrayEquals(first, bytes);
        }
        SafetensorsHeader h = SafetensorsHeader.read(first);
        List<String> order = h.tensors().stream().map(TensorInfo::name).toList();
        assertEquals(
                List.of("\u00e9", "a", "b", "aa", "c", "B", "z0"),
                order,
                "dtype descending, then name");
        for (TensorInfo t : h.tensors()) {
            assertEquals(
                    0,
                    (h.dataStart() + t.begin()) % Math.max(1, t.dtype().bits() / 8),
                    "aligned to the element size: " + t);
        }
    }

    @Test
    void serializeToSegmentEqualsByteArray() {
        SafetensorsWriter w =
                SafetensorsWriter.create()
                        .add("a", DType.F32, new long[] {3}, RawFiles.f32(1, 2, 3));
        try (Arena arena = Arena.ofConfined()) {
            assertArrayEquals(w.toByteArray(), w.serialize(arena).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void rewritingTheFileThatIsMappedKeepsItsContent() {
        // Reference issue #762: saving over a file you are mapping produced zeros on Linux.
        Path p = dir.resolve("m.safetensors");
        SafetensorsWriter.create().add("w", DType.F32, new long[] {2}, RawFiles.f32(7, 8)).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            SafetensorsWriter.create()
                    .add(f.tensor("w"))
                    .add("extra", DType.U8, new long[] {1}, new byte[] {1})
                    .write(p);
            assertEquals(
                    8.0f, f.tensor("w").getFloat(1), "the old mapping still sees the old file");
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(7.0f, f.tensor("w").getFloat(0));
            assertEquals(1, f.tensor("extra").getLong(0));
        }
    }

    @Test
    void aFailingSourceLeavesTheTargetAndNoTemporaryFile() throws Exception {
        Path p = dir.resolve("keep.safetensors");
        SafetensorsWriter.create().add("old", DType.U8, new long[] {1}, new byte[] {5}).write(p);
        byte[] before = Files.readAllBytes(p);
        SafetensorsWriter failing =
                SafetensorsWriter.create()
                        .add(
                                "a",
                                DType.U8,
                                new long[] {4},
                                out -> {
                                    out.write(ByteBuffer.wrap(new byte[2]));
                                    throw new IOException("disk on fire");
                                });
        assertEquals(SafetensorsError.Io, kindOf(() -> failing.write(p)));
        SafetensorsWriter shortSource =
                SafetensorsWriter.create()
                        .add(
                                "a",
                                DType.U8,
                                new long[] {4},
                                out -> out.write(ByteBuffer.wrap(new byte[3])));
        assertEquals(SafetensorsError.InvalidWrite, kindOf(() -> shortSource.write(p)));
        SafetensorsWriter longSource =
                SafetensorsWriter.create()
                        .add(
                                "a",
                                DType.U8,
                                new long[] {4},
                                out -> out.write(ByteBuffer.wrap(new byte[5])));
        assertEquals(SafetensorsError.InvalidWrite, kindOf(() -> longSource.write(p)));
        assertArrayEquals(before, Files.readAllBytes(p));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(p), files.toList());
        }
    }

    @Test
    void streamedConversionEqualsInMemoryConversion() {
        float[] v =
                new float[9_000_001]; // several writer chunks; and enough for to() to split across
        // cores
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(i) * 1000;
        }
        TensorView f32 =
                TensorView.of(
                        "x",
                        DType.F32,
                        new long[] {v.length},
                        java.lang.foreign.MemorySegment.ofArray(v));
        byte[] streamed = SafetensorsWriter.create().add(f32, DType.BF16).toByteArray();
        byte[] direct = SafetensorsWriter.create().add(f32.to(DType.BF16)).toByteArray();
        assertArrayEquals(direct, streamed);
        try (java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined()) {
            // A confined destination cannot be written by pool threads: the serial path, same
            // bytes.
            java.lang.foreign.MemorySegment seg = confined.allocate(v.length * 2L);
            f32.convertInto(DType.BF16, seg);
            assertArrayEquals(
                    direct,
                    SafetensorsWriter.create()
                            .add("x", DType.BF16, new long[] {v.length}, seg)
                            .toByteArray());
        }
        byte[] into = new byte[v.length * 2];
        f32.convertInto(DType.BF16, java.lang.foreign.MemorySegment.ofArray(into));
        assertArrayEquals(f32.to(DType.BF16).toByteArray(), into);
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        f32.convertInto(
                                DType.F16, java.lang.foreign.MemorySegment.ofArray(new byte[3])));
    }
}
