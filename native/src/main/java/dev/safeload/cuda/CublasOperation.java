package dev.safeload.cuda;

/** {@code cublasOperation_t}: how a GEMM operand is read (docs/lora.md §4.1). */
public enum CublasOperation {
    /** As stored (column-major). */
    N(0),
    /** Transposed. */
    T(1),
    /** Conjugate-transposed (same as {@link #T} for real types). */
    C(2);

    private final int value;

    CublasOperation(int value) {
        this.value = value;
    }

    /** The {@code cublas_api.h} value. */
    public int value() {
        return value;
    }
}
