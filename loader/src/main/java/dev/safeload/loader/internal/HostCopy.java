package dev.safeload.loader.internal;

import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.TensorInfo;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * Copies tensors from their files into host memory on a few threads, each byte once, in pieces of
 * at most {@link #PIECE_BYTES} so that one large tensor keeps every thread busy; counts the bytes
 * it copied.
 */
final class HostCopy {
    /** Large enough that per-piece overhead vanishes, small enough to spread a tensor. */
    static final long PIECE_BYTES = 16L << 20;

    /** Part of one tensor: {@code destination.byteSize()} bytes from {@code offset} on. */
    record Piece(SafetensorsFile file, TensorInfo tensor, long offset, MemorySegment destination) {}

    private HostCopy() {}

    /** Adds the pieces of {@code tensor} (read from {@code file}) into {@code into}. */
    static void split(
            SafetensorsFile file, TensorInfo tensor, MemorySegment into, List<Piece> pieces) {
        for (long done = 0; done < tensor.byteLength(); done += PIECE_BYTES) {
            long n = Math.min(PIECE_BYTES, tensor.byteLength() - done);
            pieces.add(new Piece(file, tensor, done, into.asSlice(done, n)));
        }
    }

    /**
     * Copies every piece on {@code threads} threads; returns the bytes copied, or throws the first
     * failure once every thread has stopped.
     */
    static long run(List<Piece> pieces, int threads, LongConsumer progress) {
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        LongAdder copied = new LongAdder();
        Runnable worker =
                () -> {
                    int i;
                    while (failure.get() == null && (i = next.getAndIncrement()) < pieces.size()) {
                        Piece p = pieces.get(i);
                        try {
                            p.file().readBytes(p.tensor(), p.offset(), p.destination());
                            copied.add(p.destination().byteSize());
                            progress.accept(p.destination().byteSize());
                        } catch (RuntimeException | Error e) {
                            failure.compareAndSet(null, e);
                        }
                    }
                };
        int count = Math.max(1, Math.min(threads, pieces.size()));
        // close() waits for every worker; a worker stops at the first failure anyone saw.
        try (ExecutorService workers =
                Executors.newFixedThreadPool(
                        count, Thread.ofPlatform().name("safeload-place-", 0).factory())) {
            for (int t = 0; t < count; t++) {
                workers.execute(worker);
            }
        }
        Throwable problem = failure.get();
        if (problem instanceof RuntimeException e) {
            throw e;
        }
        if (problem instanceof Error e) {
            throw e;
        }
        return copied.sum();
    }
}
