package dev.safeload.cuda;

import dev.safeload.cuda.internal.driver.CublasLibrary;

import java.util.Locale;
import java.util.Optional;

/**
 * cuBLAS, bound through java.lang.foreign so that one jar works with CUDA 12 and CUDA 13 installs:
 * it opens {@code libcublas.so.13}, then {@code libcublas.so.12}, or the library named by the
 * system property {@code safeload.cublas.library} or the environment variable {@code
 * SAFELOAD_CUBLAS_LIBRARY} (a file name the dynamic loader can find, or a path). Statuses become
 * {@link CudaException}s named after {@code cublasStatus_t}.
 *
 * {@snippet :
 * try (CudaStream stream = context.createStream();
 *      CublasHandle blas = Cublas.load().createHandle(stream)) {
 *     blas.gemmEx(CublasOperation.N, CublasOperation.N, m, n, k, 1.0, a, b, 0.0, c, CublasComputeType.COMPUTE_32F);
 *     stream.synchronize();
 * }
 * }
 */
public final class Cublas {
    private final CublasLibrary library;

    private Cublas(CublasLibrary library) {
        this.library = library;
    }

    private static final class Holder {
        static final CublasLibrary.Loaded LOADED = CublasLibrary.open();
    }

    /** Whether the library loaded with every required entry point. Never throws. */
    public static boolean isAvailable() {
        return Holder.LOADED.library().isPresent();
    }

    /** Why cuBLAS cannot be used, or empty when it can. */
    public static Optional<String> unavailableReason() {
        return isAvailable() ? Optional.empty() : Optional.of(Holder.LOADED.problem());
    }

    /**
     * The loaded library; a {@link CudaException} of kind {@link CudaError#CUBLAS_UNAVAILABLE} says
     * why not.
     */
    public static Cublas load() {
        return new Cublas(
                Holder.LOADED
                        .library()
                        .orElseThrow(
                                () ->
                                        new CudaException(
                                                CudaError.CUBLAS_UNAVAILABLE,
                                                "dlopen(libcublas)",
                                                Holder.LOADED.problem(),
                                                null)));
    }

    /** The name or path the library was opened by. */
    public String library() {
        return library.library();
    }

    /** The library's version, for example {@code 13.0.2}. */
    public String version() {
        return String.format(
                Locale.ROOT,
                "%d.%d.%d",
                library.property(0),
                library.property(1),
                library.property(2));
    }

    /** Whether {@link CublasHandle#gemmGroupedBatchedEx} is available (cuBLAS 12.5 and later). */
    public boolean hasGroupedGemm() {
        return library.hasGroupedGemm();
    }

    /**
     * Creates a handle in {@code stream}'s context, bound to {@code stream}: every call through it
     * is enqueued there. A handle is not safe for concurrent use by several threads.
     */
    public CublasHandle createHandle(CudaStream stream) {
        return CublasHandle.create(library, stream);
    }
}
