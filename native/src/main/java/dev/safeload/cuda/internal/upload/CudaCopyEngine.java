package dev.safeload.cuda.internal.upload;

import dev.safeload.Cleanup;
import dev.safeload.cuda.CudaContext;
import dev.safeload.cuda.CudaEvent;
import dev.safeload.cuda.CudaStream;
import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.cuda.PinnedHostBuffer;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link CopyEngine} of real uploads: one CUDA stream per lane, pinned bounce buffers, {@code
 * cuMemcpyHtoDAsync} into the arena, and for converting chunks a copy into the lane's device
 * scratch followed by a conversion kernel on the same stream (so the next copy into that scratch
 * waits for the kernel). Fences are events recorded on the lane's stream.
 */
public final class CudaCopyEngine implements CopyEngine {
    private final CudaContext context;
    private final DeviceBuffer arena;
    private final List<CudaStream> streams = new ArrayList<>();
    private final List<DeviceBuffer> scratch = new ArrayList<>();
    private final ConversionKernels kernels;

    /**
     * Creates {@code lanes} streams and, when {@code scratchBytes > 0} (the plan converts), a
     * device scratch buffer per lane and the conversion kernels. On failure (out of memory)
     * everything made so far is released before the exception leaves.
     */
    public CudaCopyEngine(CudaContext context, DeviceBuffer arena, int lanes, long scratchBytes) {
        this.context = context;
        this.arena = arena;
        ConversionKernels loaded = null;
        try {
            for (int i = 0; i < lanes; i++) {
                streams.add(context.createStream());
                if (scratchBytes > 0) {
                    scratch.add(context.allocate(scratchBytes));
                }
            }
            loaded = scratchBytes > 0 ? new ConversionKernels(context) : null;
        } catch (RuntimeException | Error e) {
            release(new Cleanup(e)).rethrow();
        }
        this.kernels = loaded;
    }

    @Override
    public int lanes() {
        return streams.size();
    }

    @Override
    public Staging allocateStaging(long bytes) {
        PinnedHostBuffer pinned = context.allocatePinned(bytes);
        return new Staging() {
            @Override
            public MemorySegment segment() {
                return pinned.segment();
            }

            @Override
            public void close() {
                pinned.close();
            }
        };
    }

    @Override
    public void copy(int lane, Staging source, long length, long arenaOffset) {
        arena.copyFromHostAsync(
                source.segment().asSlice(0, length), arenaOffset, streams.get(lane));
    }

    @Override
    public void convert(
            int lane, Staging source, long elements, Conversion conversion, long arenaOffset) {
        DeviceBuffer laneScratch = scratch.get(lane);
        CudaStream stream = streams.get(lane);
        // Several reader threads share a lane: the copy into the lane's one scratch buffer and the
        // kernel
        // that reads it must be queued back to back, or another chunk's copy lands in between and
        // the
        // kernel converts the wrong bytes.
        synchronized (stream) {
            laneScratch.copyFromHostAsync(
                    source.segment().asSlice(0, elements * conversion.sourceBytes()), 0, stream);
            kernels.launch(
                    conversion,
                    laneScratch.address(),
                    arena.address() + arenaOffset,
                    elements,
                    stream);
        }
    }

    @Override
    public Fence fence(int lane) {
        CudaEvent event = context.createEvent();
        try {
            event.record(streams.get(lane));
        } catch (RuntimeException e) {
            event.close();
            throw e;
        }
        return () -> {
            try {
                event.synchronize();
            } finally {
                event.close();
            }
        };
    }

    @Override
    public void synchronize() {
        for (CudaStream stream : streams) {
            stream.synchronize();
        }
    }

    /**
     * Waits for the lanes, then releases streams, scratch and kernels; the first failure is thrown.
     */
    @Override
    public void close() {
        release(new Cleanup().run(this::synchronize)).rethrow();
    }

    private Cleanup release(Cleanup cleanup) {
        cleanup.close(scratch.toArray(AutoCloseable[]::new))
                .close(streams.toArray(AutoCloseable[]::new))
                .close(kernels);
        scratch.clear();
        streams.clear();
        return cleanup;
    }
}
