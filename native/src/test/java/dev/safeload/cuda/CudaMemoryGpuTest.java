package dev.safeload.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Device memory, streams, events and the context on a real GPU. */
@RequiresGpu
class CudaMemoryGpuTest {
    static CudaContext context;

    @BeforeAll
    static void open() {
        System.setProperty(LeakDetector.PROPERTY, "true");
        context = CudaContext.open(0);
    }

    @AfterAll
    static void close() {
        context.close();
    }

    @AfterEach
    void nothingLeft() {
        assertEquals(List.of(), LeakDetector.open());
        assertEquals(List.of(), LeakDetector.reported());
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void deviceDescribesItself() {
        CudaDevice device = context.device();
        assertFalse(device.name().isBlank());
        assertTrue(device.computeCapabilityMajor() >= 7, device.toString());
        assertTrue(device.totalMemory() > 1L << 30);
        MemoryInfo info = context.memoryInfo();
        assertTrue(info.free() > 0 && info.free() <= info.total());
    }

    @Test
    void bytesRoundTripThroughDeviceMemoryAndViews() {
        byte[] data = random(1 << 20, 1);
        try (DeviceBuffer buffer = context.allocate(data.length)) {
            buffer.copyFromHost(MemorySegment.ofArray(data), 0);
            byte[] back = new byte[data.length];
            buffer.copyToHost(0, MemorySegment.ofArray(back));
            assertArrayEquals(data, back);
            DeviceBuffer view = buffer.view(4096, 1000);
            assertTrue(view.isView());
            assertEquals(buffer.address() + 4096, view.address());
            byte[] part = new byte[1000];
            view.copyToHost(0, MemorySegment.ofArray(part));
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 4096, 5096), part);
            view.fill((byte) 7);
            buffer.copyToHost(0, MemorySegment.ofArray(back));
            assertEquals(7, back[4096]);
            assertEquals(data[4095], back[4095]);
            assertEquals(data[5096], back[5096]);
            assertThrows(IndexOutOfBoundsException.class, () -> buffer.view(data.length - 10, 11));
            buffer.close();
            assertFalse(view.isOpen());
            assertThrows(IllegalStateException.class, view::address);
            buffer.close(); // idempotent
        }
    }

    @Test
    void pinnedBuffersCopyAsynchronouslyOnStreamsAndEventsOrderThem() {
        try (PinnedHostBuffer pinned = context.allocatePinned(8 << 20);
                DeviceBuffer a = context.allocate(8 << 20);
                DeviceBuffer b = context.allocate(8 << 20);
                CudaStream first = context.createStream();
                CudaStream second = context.createStream();
                CudaEvent copied = context.createEvent()) {
            assertEquals(8 << 20, pinned.segment().byteSize());
            byte[] data = random(8 << 20, 2);
            pinned.segment().copyFrom(MemorySegment.ofArray(data));
            a.copyFromHostAsync(pinned.segment(), 0, first);
            copied.record(first);
            second.waitFor(copied);
            b.copyFromDeviceAsync(a, 0, second);
            second.synchronize();
            assertTrue(copied.isComplete());
            byte[] back = new byte[data.length];
            b.copyToHost(0, MemorySegment.ofArray(back));
            assertArrayEquals(data, back);
        }
    }

    @Test
    void jcudaExceptionsSwitchedOnByOtherCodeChangeNothing() {
        // The switch is process-wide: a user's own JCuda code may turn it on.
        jcuda.driver.JCudaDriver.setExceptionsEnabled(true);
        try (PinnedHostBuffer pinned = context.allocatePinned(16 << 20);
                DeviceBuffer target = context.allocate(16 << 20);
                CudaStream stream = context.createStream();
                CudaEvent copied = context.createEvent()) {
            target.copyFromHostAsync(pinned.segment(), 0, stream);
            copied.record(stream);
            copied.isComplete(); // CUDA_ERROR_NOT_READY must come back as false, not as JCuda's
            // exception
            copied.synchronize();
            assertTrue(copied.isComplete());
            long tooMuch = context.device().totalMemory() + (1L << 30);
            CudaException e = assertThrows(CudaException.class, () -> context.allocate(tooMuch));
            assertEquals(CudaError.CUDA_ERROR_OUT_OF_MEMORY, e.kind());
            assertTrue(e.getMessage().contains("asked for " + tooMuch + " bytes"), e.getMessage());
        } finally {
            jcuda.driver.JCudaDriver.setExceptionsEnabled(false);
        }
    }

    @Test
    void pinnedSegmentIsInaccessibleAfterClose() {
        PinnedHostBuffer pinned = context.allocatePinned(4096);
        MemorySegment segment = pinned.segment();
        segment.set(ValueLayout.JAVA_INT, 0, 42);
        pinned.close();
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_INT, 0));
    }

    @Test
    void buffersMadeOnOneThreadAreUsableAndClosableOnOthers() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<DeviceBuffer>> made = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int seed = i;
                made.add(
                        pool.submit(
                                () -> {
                                    DeviceBuffer buffer = context.allocate(1 << 16);
                                    buffer.copyFromHost(
                                            MemorySegment.ofArray(random(1 << 16, seed)), 0);
                                    return buffer;
                                }));
            }
            List<Future<?>> checked = new ArrayList<>();
            for (int i = 0; i < made.size(); i++) {
                DeviceBuffer buffer = made.get(i).get();
                int seed = i;
                checked.add(
                        pool.submit(
                                () -> {
                                    byte[] back = new byte[1 << 16];
                                    buffer.copyToHost(0, MemorySegment.ofArray(back));
                                    assertArrayEquals(random(1 << 16, seed), back);
                                    buffer.close();
                                    return null;
                                }));
            }
            for (Future<?> f : checked) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void outOfMemorySaysWhatWasAskedAndFreeAndLeavesNothing() {
        long before = context.memoryInfo().free();
        long tooMuch = context.device().totalMemory() + (1L << 30);
        CudaException e = assertThrows(CudaException.class, () -> context.allocate(tooMuch));
        assertEquals(CudaError.CUDA_ERROR_OUT_OF_MEMORY, e.kind());
        assertTrue(e.getMessage().contains("asked for " + tooMuch + " bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("free of"), e.getMessage());
        assertEquals(before, context.memoryInfo().free());
    }

    @Test
    void contextStaysAliveUntilItsLastResourceIsClosed() {
        CudaContext second = CudaContext.open(0);
        DeviceBuffer buffer = second.allocate(1024);
        second.close();
        assertTrue(second.isClosed());
        assertThrows(IllegalStateException.class, second::memoryInfo);
        buffer.fill((byte) 1); // still usable: the buffer holds the context
        buffer.close();
    }

    @Test
    void leakDetectorReportsABufferDroppedWithoutClose() throws InterruptedException {
        LeakDetector.clearReported();
        dropOne();
        for (int i = 0; i < 50 && LeakDetector.reported().isEmpty(); i++) {
            System.gc();
            Thread.sleep(20);
        }
        List<String> reported = LeakDetector.reported();
        assertEquals(1, reported.size(), reported.toString());
        assertTrue(reported.getFirst().contains("dropOne"), reported.getFirst());
        LeakDetector.clearReported();
    }

    private static void dropOne() {
        context.allocate(256);
    }

    @Test
    void ptxModulesLoadAndNameTheirFunctions() {
        try (CudaModule module =
                context.loadModule(
                        "convert.ptx", dev.safeload.cuda.internal.upload.ConversionKernels.ptx())) {
            module.function("safeload_f32_to_f16");
            CudaException e =
                    assertThrows(CudaException.class, () -> module.function("no_such_kernel"));
            assertEquals(CudaError.CUDA_ERROR_NOT_FOUND, e.kind());
        }
    }

    static MemorySegment host(Arena arena, byte[] data) {
        return arena.allocate(data.length).copyFrom(MemorySegment.ofArray(data));
    }
}
