package dev.safeload.cuda;

import dev.safeload.cuda.internal.driver.Driver;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A retained reference to a device's primary context, the context the CUDA runtime (and so PyTorch
 * and cuBLAS) uses, so memory and streams made here can be shared with them.
 *
 * <p>A CUDA context is current per thread. Every method of this package that calls the driver makes
 * its context current on the calling thread first ({@link #makeCurrent()}), so any thread may use
 * any object; user JCuda code on a new thread should call {@link #makeCurrent()} once.
 *
 * <p>Buffers, streams, events and modules made from a context keep it alive: {@link #close()}
 * releases the primary context once they are all closed too (never earlier, so closing them after
 * the context still works).
 */
public final class CudaContext implements AutoCloseable {
    private final CudaDevice device;
    private final CUdevice deviceHandle;
    private final CUcontext handle;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** This context's own reference plus one per open resource made from it. */
    private final AtomicInteger references = new AtomicInteger(1);

    private CudaContext(CudaDevice device, CUdevice deviceHandle, CUcontext handle) {
        this.device = device;
        this.deviceHandle = deviceHandle;
        this.handle = handle;
    }

    /** Retains the primary context of the device with CUDA ordinal {@code ordinal}. */
    public static CudaContext open(int ordinal) {
        return open(Cuda.device(ordinal));
    }

    static CudaContext open(CudaDevice device) {
        Cuda.require();
        CUdevice deviceHandle = CudaDevice.handle(device.ordinal());
        CUcontext context = new CUcontext();
        Driver.check(
                () -> JCudaDriver.cuDevicePrimaryCtxRetain(context, deviceHandle),
                "cuDevicePrimaryCtxRetain(" + device.ordinal() + ")");
        return new CudaContext(device, deviceHandle, context);
    }

    /** The device this context belongs to. */
    public CudaDevice device() {
        return device;
    }

    /** The driver handle, for the caller's own JCuda code. */
    public CUcontext handle() {
        ensureOpen();
        return handle;
    }

    /**
     * Makes this context current on the calling thread ({@code cuCtxSetCurrent}; cheap when it
     * already is). It works after {@link #close()} as long as a resource made from the context is
     * still open, because that resource still holds the primary context.
     */
    public void makeCurrent() {
        if (references.get() <= 0) {
            throw new IllegalStateException("the CUDA context of " + device + " is released");
        }
        bind();
    }

    /** Makes the context current without any check (closing a resource). */
    void bind() {
        Driver.check(() -> JCudaDriver.cuCtxSetCurrent(handle), "cuCtxSetCurrent");
    }

    /** Free and total device memory now. */
    public MemoryInfo memoryInfo() {
        ensureOpen();
        makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        Driver.check(() -> JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return new MemoryInfo(free[0], total[0]);
    }

    /**
     * Allocates {@code bytes} of device memory (contents undefined). When the device has too little
     * free memory the {@link CudaException} (kind {@link CudaError#CUDA_ERROR_OUT_OF_MEMORY}) says
     * how much was asked for and how much was free; nothing stays allocated.
     */
    public DeviceBuffer allocate(long bytes) {
        ensureOpen(); // before the driver call: a resource made now could not be registered
        return DeviceBuffer.allocate(this, bytes);
    }

    /** Allocates {@code bytes} of page-locked host memory usable by every context. */
    public PinnedHostBuffer allocatePinned(long bytes) {
        ensureOpen();
        return PinnedHostBuffer.allocate(this, bytes);
    }

    /** Creates a stream that does not synchronize with the legacy default stream. */
    public CudaStream createStream() {
        ensureOpen();
        return CudaStream.create(this);
    }

    /**
     * Creates an event without timing whose {@link CudaEvent#synchronize()} blocks instead of
     * spinning.
     */
    public CudaEvent createEvent() {
        ensureOpen();
        return CudaEvent.create(this);
    }

    /**
     * Loads a PTX module (text, as produced by {@code nvcc -ptx}); the driver compiles it for this
     * device.
     */
    public CudaModule loadModule(String name, String ptx) {
        ensureOpen();
        return CudaModule.load(this, name, ptx);
    }

    /** Waits until all work in this context is done. */
    public void synchronize() {
        ensureOpen();
        makeCurrent();
        Driver.check(() -> JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed.get();
    }

    /**
     * Releases this reference; the primary context itself is released when its resources are closed
     * too.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            releaseReference();
        }
    }

    /** A resource made from this context now holds a reference. */
    ResourceTracker.Registration retain(Object resource, String description) {
        ensureOpen();
        references.incrementAndGet();
        return ResourceTracker.track(resource, description + " on " + this);
    }

    /** A resource made from this context was closed. */
    void release(ResourceTracker.Registration registration) {
        registration.release();
        releaseReference();
    }

    private void releaseReference() {
        if (references.decrementAndGet() == 0) {
            Driver.check(
                    () -> JCudaDriver.cuDevicePrimaryCtxRelease(deviceHandle),
                    "cuDevicePrimaryCtxRelease(" + device.ordinal() + ")");
            // Do not leave a context that may now be destroyed current on this thread.
            // JCuda refuses a Java null here (NullPointerException); an empty handle is the C NULL.
            Driver.check(
                    () -> JCudaDriver.cuCtxSetCurrent(new CUcontext()), "cuCtxSetCurrent(NULL)");
        }
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("the CUDA context of " + device + " is closed");
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "CudaContext(cuda:%d)", device.ordinal());
    }
}
