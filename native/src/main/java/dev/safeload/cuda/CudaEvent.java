package dev.safeload.cuda;

import dev.safeload.cuda.internal.driver.Driver;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * A CUDA event: a marker recorded on a stream that completes when the stream reaches it. Created
 * with {@code CU_EVENT_DISABLE_TIMING | CU_EVENT_BLOCKING_SYNC}: no timing overhead, and a {@link
 * #synchronize()} that sleeps instead of spinning a CPU core (the upload's reader threads need
 * those cores).
 */
public final class CudaEvent extends ContextResource {
    private final CUevent handle;

    private CudaEvent(CudaContext context, CUevent handle) {
        super(context);
        this.handle = handle;
        register("CudaEvent");
    }

    static CudaEvent create(CudaContext context) {
        context.makeCurrent();
        CUevent handle = new CUevent();
        Driver.check(
                () ->
                        JCudaDriver.cuEventCreate(
                                handle,
                                CUevent_flags.CU_EVENT_DISABLE_TIMING
                                        | CUevent_flags.CU_EVENT_BLOCKING_SYNC),
                "cuEventCreate");
        return new CudaEvent(context, handle);
    }

    /** The driver handle, for the caller's own JCuda calls. */
    public CUevent handle() {
        ensureOpen();
        return handle;
    }

    /** Records this event at the current end of {@code stream} (replacing an earlier record). */
    public void record(CudaStream stream) {
        ensureOpen();
        context.makeCurrent();
        Driver.check(() -> JCudaDriver.cuEventRecord(handle, stream.handle()), "cuEventRecord");
    }

    /** Waits until the work before the last {@link #record(CudaStream)} has run. */
    public void synchronize() {
        ensureOpen();
        context.makeCurrent();
        Driver.check(() -> JCudaDriver.cuEventSynchronize(handle), "cuEventSynchronize");
    }

    /** Whether the work before the last record has run (true for an event never recorded). */
    public boolean isComplete() {
        ensureOpen();
        context.makeCurrent();
        int result = Driver.call(() -> JCudaDriver.cuEventQuery(handle));
        if (result == CUresult.CUDA_ERROR_NOT_READY) {
            return false;
        }
        Driver.check(result, "cuEventQuery");
        return true;
    }

    @Override
    void destroy() {
        Driver.check(() -> JCudaDriver.cuEventDestroy(handle), "cuEventDestroy");
    }

    @Override
    public String toString() {
        return "CudaEvent";
    }
}
