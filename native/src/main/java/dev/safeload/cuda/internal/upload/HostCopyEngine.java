package dev.safeload.cuda.internal.upload;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link CopyEngine} into host memory: each lane is a single thread that runs the copies and
 * conversions in order, some time after they were enqueued, as a CUDA stream would. With {@code
 * jitterNanos > 0} each operation first sleeps a random time up to that bound, which makes a
 * premature reuse of a bounce buffer show up as corrupted bytes in tests.
 */
public final class HostCopyEngine implements CopyEngine {
    private final MemorySegment arena;
    private final List<ExecutorService> lanes = new ArrayList<>();
    private final List<CompletableFuture<Void>> tails = new ArrayList<>();
    private final long jitterNanos;

    public HostCopyEngine(MemorySegment arena, int lanes, long jitterNanos) {
        if (lanes < 1) {
            throw new IllegalArgumentException("at least one lane, not " + lanes);
        }
        this.arena = arena;
        this.jitterNanos = jitterNanos;
        for (int i = 0; i < lanes; i++) {
            this.lanes.add(
                    Executors.newSingleThreadExecutor(
                            Thread.ofPlatform().name("host-copy-lane-" + i).daemon().factory()));
            this.tails.add(CompletableFuture.completedFuture(null));
        }
    }

    @Override
    public int lanes() {
        return lanes.size();
    }

    @Override
    public Staging allocateStaging(long bytes) {
        Arena memory = Arena.ofShared();
        MemorySegment segment = memory.allocate(bytes, UploadPlan.ALIGNMENT);
        return new Staging() {
            @Override
            public MemorySegment segment() {
                return segment;
            }

            @Override
            public void close() {
                memory.close();
            }
        };
    }

    @Override
    public void copy(int lane, Staging source, long length, long arenaOffset) {
        enqueue(lane, () -> MemorySegment.copy(source.segment(), 0, arena, arenaOffset, length));
    }

    @Override
    public void convert(
            int lane, Staging source, long elements, Conversion conversion, long arenaOffset) {
        enqueue(
                lane,
                () ->
                        conversion.convert(
                                source.segment(),
                                arena.asSlice(arenaOffset, elements * conversion.targetBytes()),
                                elements));
    }

    private synchronized void enqueue(int lane, Runnable operation) {
        tails.set(
                lane,
                tails.get(lane)
                        .thenRunAsync(
                                () -> {
                                    if (jitterNanos > 0) {
                                        LockSupport.parkNanos(
                                                ThreadLocalRandom.current().nextLong(jitterNanos));
                                    }
                                    operation.run();
                                },
                                lanes.get(lane)));
    }

    @Override
    public synchronized Fence fence(int lane) {
        CompletableFuture<Void> tail = tails.get(lane);
        return () -> {
            try {
                tail.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("a host copy failed", e.getCause());
            }
        };
    }

    @Override
    public void synchronize() {
        List<CompletableFuture<Void>> all;
        synchronized (this) {
            all = List.copyOf(tails);
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    }

    @Override
    public void close() {
        for (ExecutorService lane : lanes) {
            lane.shutdown();
        }
        for (ExecutorService lane : lanes) {
            try {
                lane.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
