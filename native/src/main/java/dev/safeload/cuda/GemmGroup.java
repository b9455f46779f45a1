package dev.safeload.cuda;

import java.util.Objects;

/**
 * One group of {@code cublasGemmGroupedBatchedEx}: {@code size} products of the same shape and
 * scalars, {@code C = alpha·op(A)·op(B) + beta·C}, whose operand pointers come next in the pointer
 * arrays.
 */
public record GemmGroup(
        CublasOperation transa,
        CublasOperation transb,
        int m,
        int n,
        int k,
        double alpha,
        int lda,
        int ldb,
        double beta,
        int ldc,
        int size) {
    public GemmGroup {
        Objects.requireNonNull(transa, "transa");
        Objects.requireNonNull(transb, "transb");
        if (m < 0 || n < 0 || k < 0 || size < 0 || lda < 1 || ldb < 1 || ldc < 1) {
            throw new IllegalArgumentException(
                    "invalid GEMM group "
                            + m
                            + "x"
                            + n
                            + "x"
                            + k
                            + " lda="
                            + lda
                            + " ldb="
                            + ldb
                            + " ldc="
                            + ldc
                            + " size="
                            + size);
        }
    }
}
