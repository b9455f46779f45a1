package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.testing.RawFiles;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

class PreadReaderTest extends AbstractReaderContractTest {
    @Override
    ReadOptions.Backend backend() {
        return ReadOptions.Backend.PREAD;
    }

    @Test
    void hasNoDataSegment() {
        byte[] file =
                SafetensorsWriter.create()
                        .add("a", DType.F32, new long[] {2}, RawFiles.f32(1, 2))
                        .toByteArray();
        try (SafetensorsFile f = open(RawFiles.write(dir, "p.safetensors", file))) {
            assertThrows(UnsupportedOperationException.class, f::dataSegment);
        }
    }

    @Test
    void aFileTruncatedWhileOpenIsAnIoErrorNotACrash() throws Exception {
        Path p = dir.resolve("t.safetensors");
        SafetensorsWriter.create().add("a", DType.F32, new long[] {1024}, new byte[4096]).write(p);
        try (SafetensorsFile f = open(p)) {
            try (java.nio.channels.FileChannel ch =
                    java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(f.dataStart() + 100);
            }
            SafetensorsException e =
                    assertThrows(
                            SafetensorsException.class,
                            () ->
                                    f.readBytes(
                                            f.info("a"), 0, MemorySegment.ofArray(new byte[4096])));
            assertEquals(SafetensorsError.Io, e.kind());
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    /**
     * Interrupting one reader closes a FileChannel for everybody; the handle must reopen it so the
     * other readers (an upload pipeline cancelling one task) keep working.
     */
    @Test
    void interruptingOneReaderDoesNotBreakTheOthers() throws Exception {
        float[] values = new float[1 << 20];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        Path p = dir.resolve("big.safetensors");
        SafetensorsWriter.create()
                .add("w", DType.F32, new long[] {values.length}, MemorySegment.ofArray(values))
                .write(p);
        try (SafetensorsFile f = open(p)) {
            TensorInfo w = f.info("w");
            AtomicInteger interruptedReads = new AtomicInteger();
            CountDownLatch started = new CountDownLatch(1);
            Thread victim =
                    new Thread(
                            () -> {
                                try (Arena arena = Arena.ofConfined()) {
                                    MemorySegment dst = arena.allocate(w.byteLength());
                                    started.countDown();
                                    for (int i = 0; i < 10_000; i++) {
                                        try {
                                            f.readBytes(w, 0, dst);
                                        } catch (SafetensorsException e) {
                                            interruptedReads.incrementAndGet();
                                            assertEquals(SafetensorsError.Io, e.kind());
                                            return;
                                        }
                                    }
                                }
                            });
            victim.start();
            started.await();
            victim.interrupt();
            victim.join();
            // The channel was closed under everybody by that interrupt; the handle reopened it.
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment dst = arena.allocate(16);
                f.readBytes(w, 4L * 1000, dst);
                assertEquals(1000f, dst.get(ValueLayout.JAVA_FLOAT, 0));
                assertEquals(1003f, dst.get(ValueLayout.JAVA_FLOAT, 12));
            }
            assertEquals(1, interruptedReads.get(), "the interrupted reader gets one Io error");
        }
    }
}
