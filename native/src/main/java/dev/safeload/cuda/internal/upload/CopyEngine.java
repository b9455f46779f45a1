package dev.safeload.cuda.internal.upload;

import java.lang.foreign.MemorySegment;

/**
 * Where the upload pipeline's bytes go, and how: the one part of an upload that needs a GPU. The
 * CUDA engine enqueues asynchronous host-to-device copies (and conversion kernels) on several
 * streams; the host engine does the same into host memory on one thread per lane, so that the
 * pipeline's chunking, reader threads, buffer recycling, slicing and layout are tested on machines
 * without a GPU, with the same asynchrony (a bounce buffer recycled too early is overwritten while
 * its copy is still pending, and the test sees the wrong bytes).
 *
 * <p>Operations on one lane run in the order they were enqueued; lanes run concurrently.
 */
public interface CopyEngine extends AutoCloseable {
    /** A host buffer the readers fill; pinned for the CUDA engine. */
    interface Staging extends AutoCloseable {
        MemorySegment segment();

        @Override
        void close();
    }

    /** A point in a lane's queue. */
    interface Fence {
        /** Blocks until the work enqueued on the lane before this fence is done. */
        void await() throws InterruptedException;
    }

    /** How many independent queues (streams) there are. */
    int lanes();

    /** Allocates a staging buffer of {@code bytes}. */
    Staging allocateStaging(long bytes);

    /**
     * Enqueues a copy of the first {@code length} bytes of {@code source} to the arena at {@code
     * arenaOffset}.
     */
    void copy(int lane, Staging source, long length, long arenaOffset);

    /**
     * Enqueues the conversion of {@code elements} elements at the start of {@code source} into the
     * arena at {@code arenaOffset}.
     */
    void convert(int lane, Staging source, long elements, Conversion conversion, long arenaOffset);

    /** A fence after everything enqueued on {@code lane} so far. */
    Fence fence(int lane);

    /** Waits for every lane to drain. */
    void synchronize();

    /** Releases the lanes (not the arena). */
    @Override
    void close();
}
