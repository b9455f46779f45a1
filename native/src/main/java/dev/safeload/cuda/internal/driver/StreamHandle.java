package dev.safeload.cuda.internal.driver;

import jcuda.driver.CUstream;

/**
 * A {@link CUstream} whose raw handle can be read, for {@code cublasSetStream_v2} through
 * java.lang.foreign.
 */
public final class StreamHandle extends CUstream {
    public StreamHandle() {}

    /** The {@code CUstream} handle value. */
    public long address() {
        return getNativePointer();
    }
}
