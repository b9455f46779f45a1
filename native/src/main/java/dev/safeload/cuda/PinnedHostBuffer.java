package dev.safeload.cuda;

import dev.safeload.cuda.internal.driver.Driver;
import dev.safeload.cuda.internal.driver.HostPointer;

import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * Page-locked host memory ({@code cuMemHostAlloc}, portable to every context), the source that lets
 * host-to-device copies run asynchronously at the link's speed. {@link #segment()} is a {@link
 * MemorySegment} of exactly {@link #byteSize()} bytes that any thread may use and that becomes
 * inaccessible when this buffer is closed, so a use after close fails instead of writing into freed
 * memory.
 */
public final class PinnedHostBuffer extends ContextResource {
    private final HostPointer pointer;
    private final long byteSize;
    private final Arena access = Arena.ofShared();
    private final MemorySegment segment;

    private PinnedHostBuffer(CudaContext context, HostPointer pointer, long byteSize) {
        super(context);
        this.pointer = pointer;
        this.byteSize = byteSize;
        this.segment = segmentAt(pointer.address(), byteSize, access);
        register(toString());
    }

    @SuppressWarnings("restricted")
    private static MemorySegment segmentAt(long address, long byteSize, Arena arena) {
        return MemorySegment.ofAddress(address).reinterpret(byteSize, arena, null);
    }

    static PinnedHostBuffer allocate(CudaContext context, long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException(
                    "a pinned buffer needs a positive size, not " + bytes);
        }
        context.makeCurrent();
        HostPointer pointer = new HostPointer();
        Driver.check(
                () ->
                        JCudaDriver.cuMemHostAlloc(
                                pointer, bytes, JCudaDriver.CU_MEMHOSTALLOC_PORTABLE),
                String.format(Locale.ROOT, "cuMemHostAlloc(%d bytes, PORTABLE)", bytes));
        return new PinnedHostBuffer(context, pointer, bytes);
    }

    /** The memory, as a segment valid until {@link #close()}. */
    public MemorySegment segment() {
        return segment;
    }

    /** The memory as a JCuda pointer, for the caller's own asynchronous copies. */
    public Pointer pointer() {
        ensureOpen();
        return pointer.withByteOffset(
                0); // a fresh object: JCuda calls write into the pointers they get
    }

    /** Size in bytes. */
    public long byteSize() {
        return byteSize;
    }

    /**
     * Frees the memory. The caller must make sure no enqueued copy still reads it (synchronize the
     * stream or an event first), and before {@link #close()} (this), nothing may use the segment.
     */
    @Override
    void destroy() {
        access.close();
        Driver.check(() -> JCudaDriver.cuMemFreeHost(pointer), "cuMemFreeHost");
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "PinnedHostBuffer(%d bytes)", byteSize);
    }
}
