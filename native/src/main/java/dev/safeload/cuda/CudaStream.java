package dev.safeload.cuda;

import dev.safeload.cuda.internal.driver.Driver;
import dev.safeload.cuda.internal.driver.StreamHandle;

import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.util.Locale;

/**
 * A CUDA stream: work enqueued on it runs in order, concurrently with other streams. Created
 * non-blocking ({@code CU_STREAM_NON_BLOCKING}), so it does not serialize with the legacy default
 * stream that other libraries in the process may use.
 */
public final class CudaStream extends ContextResource {
    /** {@code CU_STREAM_NON_BLOCKING} from {@code cuda.h}. */
    private static final int NON_BLOCKING = 1;

    private final StreamHandle handle;

    private CudaStream(CudaContext context, StreamHandle handle) {
        super(context);
        this.handle = handle;
        register(toString());
    }

    static CudaStream create(CudaContext context) {
        context.makeCurrent();
        StreamHandle handle = new StreamHandle();
        Driver.check(
                () -> JCudaDriver.cuStreamCreate(handle, NON_BLOCKING),
                "cuStreamCreate(NON_BLOCKING)");
        return new CudaStream(context, handle);
    }

    /** The driver handle, for the caller's own JCuda calls. */
    public CUstream handle() {
        ensureOpen();
        return handle;
    }

    /**
     * The raw {@code CUstream} value, for foreign-function calls such as {@code
     * cublasSetStream_v2}.
     */
    public long address() {
        ensureOpen();
        return handle.address();
    }

    /** Waits until everything enqueued so far has run. */
    public void synchronize() {
        ensureOpen();
        context.makeCurrent();
        Driver.check(() -> JCudaDriver.cuStreamSynchronize(handle), "cuStreamSynchronize");
    }

    /** Makes work enqueued later on this stream wait until {@code event} has completed. */
    public void waitFor(CudaEvent event) {
        ensureOpen();
        context.makeCurrent();
        Driver.check(
                () -> JCudaDriver.cuStreamWaitEvent(handle, event.handle(), 0),
                "cuStreamWaitEvent");
    }

    /** Destroys the stream; work already enqueued still completes. */
    @Override
    void destroy() {
        Driver.check(() -> JCudaDriver.cuStreamDestroy(handle), "cuStreamDestroy");
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "CudaStream(0x%x)", handle.address());
    }
}
