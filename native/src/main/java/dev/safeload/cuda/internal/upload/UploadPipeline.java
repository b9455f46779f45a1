package dev.safeload.cuda.internal.upload;

import dev.safeload.SafeloadException;
import dev.safeload.cuda.CudaError;
import dev.safeload.cuda.CudaException;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * Runs an {@link UploadPlan} on a {@link CopyEngine}: {@code readers} threads take chunks in order,
 * each fills a free bounce buffer from the file (gathering sliced runs), enqueues its copy on lane
 * {@code chunk % lanes} with a fence behind it, and goes on to the next chunk; a recycler thread
 * waits on the fences and puts each buffer back on the free list once its copy has run. With {@code
 * stagingBuffers > readers} reading overlaps the copies of earlier chunks on every lane (double or
 * triple buffering), which is what takes an upload to the link's speed when the file is in the page
 * cache (docs/safetensors.md §4.1: a pinned bounce buffer, not DMA from mapped pages).
 */
public final class UploadPipeline {
    /**
     * What one run moved: {@code bytesRead} is counted as the readers copy bytes out of the files
     * (each byte once), not taken from the plan.
     */
    public record Stats(long chunks, long bytesRead, long bytesTransferred, long nanos) {}

    private record InFlight(CopyEngine.Fence fence, CopyEngine.Staging staging, long bytes) {}

    private static final InFlight DONE = new InFlight(null, null, 0);

    private final UploadPlan plan;
    private final CopyEngine engine;
    private final int readers;
    private final int stagingBuffers;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final BlockingQueue<InFlight> inFlight = new LinkedBlockingQueue<>();
    private final LongAdder bytesRead = new LongAdder();
    private final LongConsumer landed;

    public UploadPipeline(UploadPlan plan, CopyEngine engine, int readers, int stagingBuffers) {
        this(plan, engine, readers, stagingBuffers, bytes -> {});
    }

    /**
     * As the four-argument constructor; {@code landed} hears of the bytes of each chunk once its
     * copy has run (from the recycler thread: it must return quickly).
     */
    public UploadPipeline(
            UploadPlan plan,
            CopyEngine engine,
            int readers,
            int stagingBuffers,
            LongConsumer landed) {
        if (readers < 1 || stagingBuffers < 1) {
            throw new IllegalArgumentException(
                    "at least one reader and one bounce buffer (got "
                            + readers
                            + ", "
                            + stagingBuffers
                            + ")");
        }
        this.plan = plan;
        this.engine = engine;
        this.readers = readers;
        this.stagingBuffers = stagingBuffers;
        this.landed = landed;
    }

    /**
     * Moves every chunk; returns when all copies are done, or throws the first failure once
     * everything has stopped.
     */
    public Stats run() {
        long start = System.nanoTime();
        int buffers = (int) Math.min(stagingBuffers, Math.max(1, plan.chunks().size()));
        BlockingQueue<CopyEngine.Staging> free = new ArrayBlockingQueue<>(buffers);
        List<CopyEngine.Staging> all = new ArrayList<>();
        try {
            for (int i = 0; i < buffers; i++) {
                CopyEngine.Staging staging = engine.allocateStaging(plan.chunkBytes());
                all.add(staging);
                free.add(staging);
            }
            Thread recycler =
                    Thread.ofPlatform().name("safeload-upload-recycler").start(() -> recycle(free));
            List<Thread> threads = new ArrayList<>();
            int count = Math.min(readers, Math.max(1, plan.chunks().size()));
            for (int i = 0; i < count; i++) {
                threads.add(
                        Thread.ofPlatform()
                                .name("safeload-upload-reader-" + i)
                                .start(() -> read(free)));
            }
            joinAll(threads);
            inFlight.add(DONE);
            joinAll(List.of(recycler));
            engine.synchronize();
        } catch (RuntimeException | Error e) {
            failure.compareAndSet(null, e);
        } finally {
            if (failure.get() != null) {
                try {
                    engine.synchronize();
                } catch (RuntimeException e) {
                    failure.get().addSuppressed(e);
                }
            }
            // Every buffer is freed even when one free fails; the first failure is reported.
            for (CopyEngine.Staging staging : all) {
                try {
                    staging.close();
                } catch (RuntimeException | Error e) {
                    if (!failure.compareAndSet(null, e)) {
                        failure.get().addSuppressed(e);
                    }
                }
            }
        }
        Throwable problem = failure.get();
        if (problem != null) {
            throw asException(problem);
        }
        return new Stats(
                plan.chunks().size(),
                bytesRead.sum(),
                plan.transferBytes(),
                System.nanoTime() - start);
    }

    private void read(BlockingQueue<CopyEngine.Staging> free) {
        try {
            int index;
            while (failure.get() == null
                    && (index = next.getAndIncrement()) < plan.chunks().size()) {
                UploadPlan.Chunk chunk = plan.chunks().get(index);
                CopyEngine.Staging staging = free.take();
                boolean submitted = false;
                try {
                    bytesRead.add(fill(chunk, staging.segment()));
                    int lane = index % engine.lanes();
                    if (chunk.conversion().isPresent()) {
                        engine.convert(
                                lane,
                                staging,
                                chunk.elements(),
                                chunk.conversion().get(),
                                chunk.arenaOffset());
                    } else {
                        engine.copy(lane, staging, chunk.bounceBytes(), chunk.arenaOffset());
                    }
                    inFlight.add(new InFlight(engine.fence(lane), staging, chunk.bounceBytes()));
                    submitted = true;
                } finally {
                    if (!submitted) {
                        free.add(staging);
                    }
                }
            }
        } catch (InterruptedException e) {
            failure.compareAndSet(null, e);
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            failure.compareAndSet(null, e);
        }
    }

    /**
     * Lays the chunk's pieces out in the bounce buffer, zeroing alignment padding between them;
     * returns the bytes read from the files.
     */
    static long fill(UploadPlan.Chunk chunk, MemorySegment bounce) {
        long filled = 0;
        long read = 0;
        for (UploadPlan.Piece piece : chunk.pieces()) {
            if (piece.bounceOffset() > filled) {
                bounce.asSlice(filled, piece.bounceOffset() - filled).fill((byte) 0);
            }
            SourceTensor.Reader reader = piece.tensor().source().reader();
            long base = piece.bounceOffset();
            piece.tensor()
                    .geometry()
                    .forEachRun(
                            piece.sliceOffset(),
                            piece.length(),
                            (sourceOffset, offset, length) ->
                                    reader.read(
                                            sourceOffset, bounce.asSlice(base + offset, length)));
            filled = piece.bounceOffset() + piece.length();
            read += piece.length();
        }
        return read;
    }

    private void recycle(BlockingQueue<CopyEngine.Staging> free) {
        while (true) {
            InFlight next;
            try {
                next = inFlight.take();
            } catch (InterruptedException e) {
                failure.compareAndSet(null, e);
                return;
            }
            if (next == DONE) {
                return;
            }
            try {
                next.fence().await();
                landed.accept(next.bytes());
            } catch (InterruptedException e) {
                failure.compareAndSet(null, e);
            } catch (RuntimeException e) {
                failure.compareAndSet(null, e);
            } finally {
                // Back on the free list even after a failure, so no reader waits forever.
                free.add(next.staging());
            }
        }
    }

    private static void joinAll(List<Thread> threads) {
        for (Thread thread : threads) {
            boolean interrupted = false;
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static RuntimeException asException(Throwable problem) {
        return switch (problem) {
            case SafeloadException e -> e;
            case Error e -> throw e;
            case InterruptedException e ->
                    new CudaException(
                            CudaError.UPLOAD_READ_FAILED,
                            "upload",
                            "the upload was interrupted",
                            e);
            default ->
                    new CudaException(
                            CudaError.UPLOAD_READ_FAILED,
                            "upload",
                            "reading tensors for the upload failed: " + problem,
                            problem);
        };
    }
}
