package dev.safeload.cuda;

import dev.safeload.SafeloadException;

import java.util.Objects;

/**
 * A CUDA driver call, a cuBLAS call, or an upload failed. {@link #kind()} names the native result
 * ({@code CUDA_ERROR_OUT_OF_MEMORY}, {@code CUBLAS_STATUS_NOT_SUPPORTED}, ...) or one of safeload's
 * own kinds; {@link #call()} names the call that returned it, with its arguments.
 */
public class CudaException extends SafeloadException {
    private static final long serialVersionUID = 1L;
    private final CudaError kind;
    private final String call;
    private final int code;

    /** A failure of safeload's own kind (no native result code). */
    public CudaException(CudaError kind, String call, String message, Throwable cause) {
        this(kind, kind.code(), call, message, cause);
    }

    /**
     * A native call returned {@code code}; kept as given, since it may be newer than {@link
     * CudaError}.
     */
    public CudaException(CudaError kind, int code, String call, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
        this.call = Objects.requireNonNull(call, "call");
        this.code = code;
    }

    @Override
    public CudaError kind() {
        return kind;
    }

    /**
     * The native call that failed, for example {@code cuMemAlloc(1073741824 bytes)}; empty for
     * non-call failures.
     */
    public String call() {
        return call;
    }

    /** The native result code as returned, or -1 for safeload's own kinds. */
    public int code() {
        return code;
    }
}
