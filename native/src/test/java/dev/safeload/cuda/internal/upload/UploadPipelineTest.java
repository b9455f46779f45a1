package dev.safeload.cuda.internal.upload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cuda.CudaError;
import dev.safeload.cuda.CudaException;
import dev.safeload.cuda.TensorSlice;
import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsError;
import dev.safeload.safetensors.SafetensorsException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The upload pipeline's host side on real files and real threads, into host memory through the
 * {@link HostCopyEngine} (lanes that run copies late, with random delays): the destination must
 * hold the file's bytes at 256-byte aligned offsets, slices must hold exactly the sliced elements,
 * and conversions the converted ones.
 */
class UploadPipelineTest {
    @TempDir Path dir;
    private FileChannel channel;
    private byte[] fileBytes;
    private final Arena arena = Arena.ofShared();

    /** Bytes the tensors' readers copied out of the file, across every upload of a test. */
    private final LongAdder bytesReadFromFile = new LongAdder();

    @BeforeEach
    void writeFile() throws IOException {
        fileBytes = new byte[3 << 20];
        new Random(42).nextBytes(fileBytes);
        Path file = dir.resolve("data.bin");
        java.nio.file.Files.write(file, fileBytes);
        channel = FileChannel.open(file, StandardOpenOption.READ);
    }

    @AfterEach
    void close() throws IOException {
        channel.close();
        arena.close();
    }

    /** A tensor whose bytes are the file's bytes at {@code [offset, offset + length)}. */
    private SourceTensor tensor(String name, DType dtype, long offset, long... shape) {
        long elements = 1;
        for (long d : shape) {
            elements *= d;
        }
        long length = elements * dtype.bits() / 8;
        assertTrue(offset + length <= fileBytes.length);
        return new SourceTensor(
                name,
                dtype,
                shape,
                length,
                (at, dst) -> {
                    if (at < 0 || at + dst.byteSize() > length) {
                        throw new IndexOutOfBoundsException(
                                at + "+" + dst.byteSize() + " of " + length);
                    }
                    bytesReadFromFile.add(dst.byteSize());
                    try {
                        var buffer = dst.asByteBuffer();
                        long position = offset + at;
                        while (buffer.hasRemaining()) {
                            position += channel.read(buffer, position);
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }

    private static UploadPlan.Request whole(SourceTensor t) {
        return new UploadPlan.Request(t, Optional.empty(), Optional.empty());
    }

    private MemorySegment upload(UploadPlan plan, int readers, int buffers, int lanes) {
        MemorySegment destination = arena.allocate(plan.arenaBytes(), UploadPlan.ALIGNMENT);
        destination.fill((byte) 0x5A);
        long readBefore = bytesReadFromFile.sum();
        LongAdder landed = new LongAdder();
        try (HostCopyEngine engine = new HostCopyEngine(destination, lanes, 200_000)) {
            UploadPipeline.Stats stats =
                    new UploadPipeline(plan, engine, readers, buffers, landed::add).run();
            assertEquals(plan.chunks().size(), stats.chunks());
            // Each byte of the (sliced) tensors is read from the file once, and counted as read.
            long planned =
                    plan.tensors().stream().mapToLong(UploadPlan.PlannedTensor::sourceBytes).sum();
            assertEquals(planned, stats.bytesRead());
            assertEquals(planned, bytesReadFromFile.sum() - readBefore);
            assertEquals(plan.transferBytes(), landed.sum(), "every chunk reported once landed");
        }
        return destination;
    }

    private byte[] fileRange(long offset, long length) {
        byte[] out = new byte[(int) length];
        System.arraycopy(fileBytes, (int) offset, out, 0, (int) length);
        return out;
    }

    private static byte[] bytes(MemorySegment segment, long offset, long length) {
        return segment.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void wholeTensorsLandAlignedWithTheFilesBytesAndZeroPadding() {
        long[] sizes = {0, 1, 255, 256, 257, 4096, 70_000, 1_000_003, 3, 600_000};
        List<UploadPlan.Request> requests = new ArrayList<>();
        long offset = 0;
        for (int i = 0; i < sizes.length; i++) {
            requests.add(whole(tensor("t" + i, DType.U8, offset, sizes[i])));
            offset += sizes[i];
        }
        UploadPlan plan = UploadPlan.of(requests, 64 * 1024);
        MemorySegment destination = upload(plan, 3, 3, 2);
        offset = 0;
        long previousEnd = 0;
        for (int i = 0; i < sizes.length; i++) {
            UploadPlan.PlannedTensor t = plan.tensors().get(i);
            assertEquals(0, t.arenaOffset() % 256, "alignment of " + t.source().name());
            assertTrue(t.arenaOffset() >= previousEnd);
            assertArrayEquals(
                    fileRange(offset, sizes[i]),
                    bytes(destination, t.arenaOffset(), sizes[i]),
                    t.source().name());
            // Padding between tensors is zeroed, not left as whatever the arena held.
            assertTrue(
                    bytes(destination, previousEnd, t.arenaOffset() - previousEnd).length == 0
                            || allZero(
                                    bytes(destination, previousEnd, t.arenaOffset() - previousEnd)),
                    "padding before t" + i);
            previousEnd = t.arenaOffset() + sizes[i];
            offset += sizes[i];
        }
        for (UploadPlan.Chunk chunk : plan.chunks()) {
            assertTrue(
                    chunk.bounceBytes() <= 64 * 1024,
                    "chunk " + chunk.index() + " is " + chunk.bounceBytes());
        }
    }

    private static boolean allZero(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    @Test
    void slicesOfEveryDimensionHoldExactlyTheirElementsAndOnlyTheyCrossTheBus() {
        long[] shape = {6, 10, 12};
        SourceTensor t = tensor("w", DType.F32, 1000, shape);
        List<TensorSlice> slices =
                List.of(
                        new TensorSlice(0, 2, 5),
                        new TensorSlice(1, 3, 8),
                        new TensorSlice(2, 4, 10),
                        TensorSlice.shard(shape, 2, 1, 4),
                        new TensorSlice(1, 0, 10));
        List<UploadPlan.Request> requests = new ArrayList<>();
        for (TensorSlice s : slices) {
            requests.add(new UploadPlan.Request(t, Optional.of(s), Optional.empty()));
        }
        UploadPlan plan = UploadPlan.of(requests, 512);
        MemorySegment destination = upload(plan, 2, 2, 3);
        long expectedTransfer = 0;
        for (int i = 0; i < slices.size(); i++) {
            TensorSlice s = slices.get(i);
            UploadPlan.PlannedTensor planned = plan.tensors().get(i);
            byte[] expected = gather(1000, shape, 4, s);
            assertEquals(expected.length, planned.outputBytes());
            assertArrayEquals(
                    expected,
                    bytes(destination, planned.arenaOffset(), expected.length),
                    "slice " + s);
            long[] outShape = shape.clone();
            outShape[s.dim()] = s.end() - s.start();
            assertArrayEquals(outShape, planned.outputShape());
            expectedTransfer += expected.length;
        }
        // Direct chunks also carry the (small) alignment padding between tensors, nothing else.
        assertTrue(plan.transferBytes() >= expectedTransfer);
        assertTrue(
                plan.transferBytes() < expectedTransfer + 256L * slices.size(),
                plan.transferBytes() + " bytes");
    }

    /** The slice's bytes, element by element, from the row-major definition. */
    private byte[] gather(long offset, long[] shape, int elementBytes, TensorSlice s) {
        List<Byte> out = new ArrayList<>();
        for (long i = 0; i < shape[0]; i++) {
            for (long j = 0; j < shape[1]; j++) {
                for (long k = 0; k < shape[2]; k++) {
                    long index = s.dim() == 0 ? i : s.dim() == 1 ? j : k;
                    if (index < s.start() || index >= s.end()) {
                        continue;
                    }
                    long element = (i * shape[1] + j) * shape[2] + k;
                    for (int b = 0; b < elementBytes; b++) {
                        out.add(fileBytes[(int) (offset + element * elementBytes + b)]);
                    }
                }
            }
        }
        byte[] bytes = new byte[out.size()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = out.get(i);
        }
        return bytes;
    }

    @Test
    void conversionsWriteConvertedElementsInChunksOfWholeElements() {
        SourceTensor f32 = tensor("a", DType.F32, 8, 1001);
        SourceTensor bf16 = tensor("b", DType.BF16, 20_000, 3, 333);
        SourceTensor f16 = tensor("c", DType.F16, 40_000, 777);
        SourceTensor f32Sliced = tensor("d", DType.F32, 100_000, 20, 30);
        List<UploadPlan.Request> requests =
                List.of(
                        new UploadPlan.Request(f32, Optional.empty(), Optional.of(DType.F16)),
                        new UploadPlan.Request(bf16, Optional.empty(), Optional.of(DType.F16)),
                        whole(tensor("plain", DType.U8, 50_000, 999)),
                        new UploadPlan.Request(f16, Optional.empty(), Optional.of(DType.BF16)),
                        new UploadPlan.Request(f32, Optional.empty(), Optional.of(DType.BF16)),
                        new UploadPlan.Request(
                                f32Sliced,
                                Optional.of(new TensorSlice(1, 7, 19)),
                                Optional.of(DType.BF16)));
        UploadPlan plan = UploadPlan.of(requests, 1000);
        MemorySegment destination = upload(plan, 3, 2, 2);
        check(destination, plan.tensors().get(0), Conversion.F32_TO_F16, fileSegment(8, 4004));
        check(
                destination,
                plan.tensors().get(1),
                Conversion.BF16_TO_F16,
                fileSegment(20_000, 3 * 333 * 2));
        assertArrayEquals(
                fileRange(50_000, 999),
                bytes(destination, plan.tensors().get(2).arenaOffset(), 999));
        check(
                destination,
                plan.tensors().get(3),
                Conversion.F16_TO_BF16,
                fileSegment(40_000, 777 * 2));
        check(destination, plan.tensors().get(4), Conversion.F32_TO_BF16, fileSegment(8, 4004));
        byte[] sliced = gather2d(100_000, 20, 30, 4, 7, 19);
        check(
                destination,
                plan.tensors().get(5),
                Conversion.F32_TO_BF16,
                MemorySegment.ofArray(sliced));
        assertEquals(DType.BF16, plan.tensors().get(5).outputDtype());
    }

    private MemorySegment fileSegment(long offset, long length) {
        return MemorySegment.ofArray(fileRange(offset, length));
    }

    private byte[] gather2d(long offset, int rows, int cols, int elementBytes, int from, int to) {
        byte[] out = new byte[rows * (to - from) * elementBytes];
        int at = 0;
        for (int r = 0; r < rows; r++) {
            int start = (int) offset + (r * cols + from) * elementBytes;
            System.arraycopy(fileBytes, start, out, at, (to - from) * elementBytes);
            at += (to - from) * elementBytes;
        }
        return out;
    }

    private static void check(
            MemorySegment destination,
            UploadPlan.PlannedTensor t,
            Conversion c,
            MemorySegment source) {
        long elements = source.byteSize() / c.sourceBytes();
        assertEquals(elements * 2, t.outputBytes());
        for (long i = 0; i < elements; i++) {
            short expected =
                    switch (c) {
                        case F32_TO_F16 ->
                                Conversion.f32ToF16(
                                        source.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i));
                        case F32_TO_BF16 ->
                                Conversion.f32ToBf16(
                                        source.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i));
                        case BF16_TO_F16 ->
                                Conversion.f32ToF16(
                                        Conversion.bf16ToF32(
                                                source.getAtIndex(
                                                        ValueLayout.JAVA_SHORT_UNALIGNED, i)));
                        case F16_TO_BF16 ->
                                Conversion.f32ToBf16(
                                        Float.float16ToFloat(
                                                source.getAtIndex(
                                                        ValueLayout.JAVA_SHORT_UNALIGNED, i)));
                    };
            assertEquals(
                    expected,
                    destination.get(ValueLayout.JAVA_SHORT_UNALIGNED, t.arenaOffset() + 2 * i),
                    t.source().name() + "[" + i + "]");
        }
    }

    @Test
    void oneBounceBufferManyLanesStillNeverReusesABufferBeforeItsCopyRan() {
        List<UploadPlan.Request> requests = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            requests.add(whole(tensor("t" + i, DType.U8, i * 50_000L, 49_999)));
        }
        UploadPlan plan = UploadPlan.of(requests, 4096);
        MemorySegment destination = upload(plan, 4, 1, 4);
        for (int i = 0; i < 40; i++) {
            assertArrayEquals(
                    fileRange(i * 50_000L, 49_999),
                    bytes(destination, plan.tensors().get(i).arenaOffset(), 49_999));
        }
    }

    @Test
    void aFenceThatDoesNotWaitCorruptsTheUploadSoTheChecksAboveCanFail() {
        List<UploadPlan.Request> requests = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            requests.add(whole(tensor("t" + i, DType.U8, i * 100_000L, 99_999)));
        }
        UploadPlan plan = UploadPlan.of(requests, 4096);
        MemorySegment destination = arena.allocate(plan.arenaBytes(), UploadPlan.ALIGNMENT);
        try (HostCopyEngine real = new HostCopyEngine(destination, 2, 200_000)) {
            CopyEngine lying =
                    new ForwardingEngine(real) {
                        @Override
                        public Fence fence(int lane) {
                            return () -> {};
                        }
                    };
            new UploadPipeline(plan, lying, 2, 2).run();
        }
        boolean corrupted = false;
        for (int i = 0; i < 20 && !corrupted; i++) {
            corrupted =
                    !java.util.Arrays.equals(
                            fileRange(i * 100_000L, 99_999),
                            bytes(destination, plan.tensors().get(i).arenaOffset(), 99_999));
        }
        assertTrue(
                corrupted, "recycling buffers without waiting should have corrupted some tensor");
    }

    @Test
    void aReadFailureStopsTheUploadRethrowsItAndFreesEveryBounceBuffer() {
        SafetensorsException broken = new SafetensorsException(SafetensorsError.Io, "disk gone");
        List<UploadPlan.Request> requests = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            SourceTensor good = tensor("t" + i, DType.U8, i * 10_000L, 9_999);
            requests.add(
                    whole(
                            i != 17
                                    ? good
                                    : new SourceTensor(
                                            "bad",
                                            DType.U8,
                                            new long[] {9_999},
                                            9_999,
                                            (at, dst) -> {
                                                throw broken;
                                            })));
        }
        UploadPlan plan = UploadPlan.of(requests, 2048);
        MemorySegment destination = arena.allocate(plan.arenaBytes(), UploadPlan.ALIGNMENT);
        AtomicInteger openStaging = new AtomicInteger();
        try (HostCopyEngine real = new HostCopyEngine(destination, 2, 50_000)) {
            CopyEngine counting =
                    new ForwardingEngine(real) {
                        @Override
                        public Staging allocateStaging(long bytes) {
                            Staging staging = super.allocateStaging(bytes);
                            openStaging.incrementAndGet();
                            return new Staging() {
                                @Override
                                public MemorySegment segment() {
                                    return staging.segment();
                                }

                                @Override
                                public void close() {
                                    openStaging.decrementAndGet();
                                    staging.close();
                                }
                            };
                        }
                    };
            SafetensorsException thrown =
                    assertThrows(
                            SafetensorsException.class,
                            () -> new UploadPipeline(plan, counting, 3, 3).run());
            assertSame(broken, thrown);
        }
        assertEquals(0, openStaging.get(), "bounce buffers left open");
    }

    @Test
    void unexpectedReaderFailuresBecomeUploadErrors() {
        SourceTensor bad =
                new SourceTensor(
                        "bad",
                        DType.U8,
                        new long[] {10},
                        10,
                        (at, dst) -> {
                            throw new IllegalStateException("boom");
                        });
        UploadPlan plan = UploadPlan.of(List.of(whole(bad)), 1024);
        MemorySegment destination = arena.allocate(plan.arenaBytes());
        try (HostCopyEngine engine = new HostCopyEngine(destination, 1, 0)) {
            CudaException e =
                    assertThrows(
                            CudaException.class,
                            () -> new UploadPipeline(plan, engine, 1, 1).run());
            assertEquals(CudaError.UPLOAD_READ_FAILED, e.kind());
            assertTrue(e.getMessage().contains("boom"), e.getMessage());
        }
    }

    @Test
    void planRefusesConversionsTheKernelsDoNotHave() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                UploadPlan.of(
                                        List.of(
                                                new UploadPlan.Request(
                                                        tensor("i", DType.I32, 0, 4),
                                                        Optional.empty(),
                                                        Optional.of(DType.F16))),
                                        1024));
        assertTrue(e.getMessage().contains("cannot convert i from I32 to F16"), e.getMessage());
        assertTrue(e.getMessage().contains("F32 to BF16"), e.getMessage());
        assertEquals(Optional.of(Conversion.BF16_TO_F16), Conversion.of(DType.BF16, DType.F16));
        assertEquals(Optional.empty(), Conversion.of(DType.F16, DType.F32));
        assertNotEquals(0, UploadPlan.of(List.of(), 1024).arenaBytes());
    }

    /** Delegates everything to another engine; tests override one method to break or observe it. */
    private static class ForwardingEngine implements CopyEngine {
        private final CopyEngine delegate;

        ForwardingEngine(CopyEngine delegate) {
            this.delegate = delegate;
        }

        @Override
        public int lanes() {
            return delegate.lanes();
        }

        @Override
        public Staging allocateStaging(long bytes) {
            return delegate.allocateStaging(bytes);
        }

        @Override
        public void copy(int lane, Staging source, long length, long arenaOffset) {
            delegate.copy(lane, source, length, arenaOffset);
        }

        @Override
        public void convert(
                int lane, Staging source, long elements, Conversion conversion, long arenaOffset) {
            delegate.convert(lane, source, elements, conversion, arenaOffset);
        }

        @Override
        public Fence fence(int lane) {
            return delegate.fence(lane);
        }

        @Override
        public void synchronize() {
            delegate.synchronize();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
