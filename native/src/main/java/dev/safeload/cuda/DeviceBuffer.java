package dev.safeload.cuda;

import dev.safeload.cuda.internal.driver.DevicePointer;
import dev.safeload.cuda.internal.driver.Driver;
import dev.safeload.cuda.internal.driver.HostPointer;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Objects;

/**
 * Device memory with one owner. The owner closes it (idempotently) and that frees it; a {@linkplain
 * #view(long, long) view} is a window into its owner's memory that frees nothing and is valid while
 * the owner is open. {@link #pointer()} hands the memory to the caller's own JCuda code; {@link
 * #address()} to foreign-function code.
 *
 * {@snippet :
 * try (DeviceBuffer weights = context.allocate(bytes)) {
 *     weights.copyFromHost(hostSegment, 0);
 *     JCudaDriver.cuLaunchKernel(f, ..., Pointer.to(Pointer.to(weights.pointer()), ...), null);
 * }
 * }
 */
public final class DeviceBuffer extends ContextResource {
    private final DevicePointer pointer;
    private final long byteSize;

    /** The owner of a view; {@code null} for an owner. */
    private final DeviceBuffer owner;

    private DeviceBuffer(
            CudaContext context, DevicePointer pointer, long byteSize, DeviceBuffer owner) {
        super(context);
        this.pointer = pointer;
        this.byteSize = byteSize;
        this.owner = owner;
        if (owner == null) {
            register(describe(pointer.address(), byteSize));
        }
    }

    static DeviceBuffer allocate(CudaContext context, long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException(
                    "a device buffer needs a positive size, not " + bytes);
        }
        context.makeCurrent();
        DevicePointer pointer = new DevicePointer();
        String call = String.format(Locale.ROOT, "cuMemAlloc(%d bytes)", bytes);
        int result = Driver.call(() -> JCudaDriver.cuMemAlloc(pointer, bytes));
        if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            throw outOfMemory(context, bytes, call, result);
        }
        Driver.check(result, call);
        return new DeviceBuffer(context, pointer, bytes, null);
    }

    /**
     * The out-of-memory error: what was asked for, what was free, what to do (nothing stays
     * allocated).
     */
    static CudaException outOfMemory(CudaContext context, long requested, String call, int result) {
        long[] free = new long[1];
        long[] total = new long[1];
        String freeText =
                Driver.call(() -> JCudaDriver.cuMemGetInfo(free, total)) == CUresult.CUDA_SUCCESS
                        ? String.format(
                                Locale.ROOT,
                                "%d bytes (%s) free of %d (%s)",
                                free[0],
                                gib(free[0]),
                                total[0],
                                gib(total[0]))
                        : "free memory unknown";
        return new CudaException(
                CudaError.CUDA_ERROR_OUT_OF_MEMORY,
                result,
                call,
                String.format(
                        Locale.ROOT,
                        "out of device memory on %s: asked for %d bytes (%s), %s; close unused"
                                + " buffers or models, or load fewer tensors or a tensor-parallel"
                                + " slice",
                        context.device(),
                        requested,
                        gib(requested),
                        freeText),
                null);
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    /**
     * The device pointer, for the caller's own JCuda calls; valid until the owner is closed. A
     * fresh object each time: JCuda functions write into the pointers they are given, and one
     * passed by mistake to, say, {@code cuMemAlloc} must not change this buffer's address.
     */
    public CUdeviceptr pointer() {
        ensureUsable();
        return pointer.plus(0);
    }

    /** The device address, for foreign-function calls (cuBLAS); valid until the owner is closed. */
    public long address() {
        ensureUsable();
        return pointer.address();
    }

    /** Size in bytes. */
    public long byteSize() {
        return byteSize;
    }

    /** Whether this is a view (it frees nothing when closed). */
    public boolean isView() {
        return owner != null;
    }

    /** Whether the memory can still be used: neither this nor its owner is closed. */
    public boolean isOpen() {
        return !isClosed() && (owner == null || owner.isOpen());
    }

    /** A window of {@code length} bytes starting {@code offset} bytes into this buffer. */
    public DeviceBuffer view(long offset, long length) {
        ensureUsable();
        Objects.checkFromIndexSize(offset, length, byteSize);
        return new DeviceBuffer(
                context, pointer.plus(offset), length, owner == null ? this : owner);
    }

    /**
     * Copies all of {@code source} to this buffer at {@code offset} and waits until the bytes are
     * on the device. Not ordered with work pending on {@link CudaStream}s (they do not synchronize
     * with the default stream): synchronize those first.
     */
    public void copyFromHost(MemorySegment source, long offset) {
        Objects.checkFromIndexSize(offset, source.byteSize(), byteSize);
        ensureUsable();
        context.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment native_ =
                    source.isNative()
                            ? source
                            : arena.allocate(source.byteSize(), 256).copyFrom(source);
            Driver.check(
                    () ->
                            JCudaDriver.cuMemcpyHtoD(
                                    pointer.plus(offset),
                                    HostPointer.to(native_),
                                    source.byteSize()),
                    copyCall("cuMemcpyHtoD", source.byteSize()));
            // From pageable memory cuMemcpyHtoD returns once the bytes are staged, before the DMA
            // lands; work on our non-blocking streams does not wait for the default stream, so wait
            // here.
            waitForDefaultStream();
        }
    }

    private static void waitForDefaultStream() {
        Driver.check(
                () -> JCudaDriver.cuStreamSynchronize(null), "cuStreamSynchronize(default stream)");
    }

    /**
     * Enqueues a copy of all of {@code source} to this buffer at {@code offset} on {@code stream}.
     * {@code source} must be native and stay valid until the stream passes the copy; it should be
     * pinned ({@link PinnedHostBuffer}), or the driver copies synchronously through its own
     * staging.
     */
    public void copyFromHostAsync(MemorySegment source, long offset, CudaStream stream) {
        Objects.checkFromIndexSize(offset, source.byteSize(), byteSize);
        ensureUsable();
        context.makeCurrent();
        Driver.check(
                () ->
                        JCudaDriver.cuMemcpyHtoDAsync(
                                pointer.plus(offset),
                                HostPointer.to(source),
                                source.byteSize(),
                                stream.handle()),
                copyCall("cuMemcpyHtoDAsync", source.byteSize()));
    }

    /**
     * Copies {@code destination.byteSize()} bytes from this buffer at {@code offset} into {@code
     * destination}, and waits.
     */
    public void copyToHost(long offset, MemorySegment destination) {
        Objects.checkFromIndexSize(offset, destination.byteSize(), byteSize);
        ensureUsable();
        context.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment native_ =
                    destination.isNative()
                            ? destination
                            : arena.allocate(destination.byteSize(), 256);
            Driver.check(
                    () ->
                            JCudaDriver.cuMemcpyDtoH(
                                    HostPointer.to(native_),
                                    pointer.plus(offset),
                                    destination.byteSize()),
                    copyCall("cuMemcpyDtoH", destination.byteSize()));
            if (native_ != destination) {
                destination.copyFrom(native_);
            }
        }
    }

    /**
     * Enqueues a copy from this buffer at {@code offset} into native {@code destination} on {@code
     * stream}.
     */
    public void copyToHostAsync(long offset, MemorySegment destination, CudaStream stream) {
        Objects.checkFromIndexSize(offset, destination.byteSize(), byteSize);
        ensureUsable();
        context.makeCurrent();
        Driver.check(
                () ->
                        JCudaDriver.cuMemcpyDtoHAsync(
                                HostPointer.to(destination),
                                pointer.plus(offset),
                                destination.byteSize(),
                                stream.handle()),
                copyCall("cuMemcpyDtoHAsync", destination.byteSize()));
    }

    /**
     * Enqueues a copy of all of {@code source} (device memory) to this buffer at {@code offset} on
     * {@code stream}.
     */
    public void copyFromDeviceAsync(DeviceBuffer source, long offset, CudaStream stream) {
        Objects.checkFromIndexSize(offset, source.byteSize(), byteSize);
        ensureUsable();
        context.makeCurrent();
        Driver.check(
                () ->
                        JCudaDriver.cuMemcpyDtoDAsync(
                                pointer.plus(offset),
                                source.pointer(),
                                source.byteSize(),
                                stream.handle()),
                copyCall("cuMemcpyDtoDAsync", source.byteSize()));
    }

    /** Sets every byte to {@code value}, and waits. */
    public void fill(byte value) {
        ensureUsable();
        context.makeCurrent();
        Driver.check(
                () -> JCudaDriver.cuMemsetD8(pointer, value, byteSize),
                copyCall("cuMemsetD8", byteSize));
        // cuMemsetD8 on device memory is asynchronous with respect to the host (CUDA "API
        // synchronization behavior"); "and waits" is this method's contract.
        waitForDefaultStream();
    }

    /** Frees the memory; {@link #close()} on a view just ends that window. */
    @Override
    void destroy() {
        Driver.check(() -> JCudaDriver.cuMemFree(pointer), copyCall("cuMemFree", byteSize));
    }

    private void ensureUsable() {
        if (!isOpen()) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    private String copyCall(String function, long bytes) {
        return String.format(Locale.ROOT, "%s(0x%x, %d bytes)", function, pointer.address(), bytes);
    }

    private static String describe(long address, long byteSize) {
        return String.format(Locale.ROOT, "DeviceBuffer(%d bytes at 0x%x)", byteSize, address);
    }

    @Override
    public String toString() {
        return (owner == null ? "" : "view of ") + describe(pointer.address(), byteSize);
    }
}
