package dev.safeload.cuda;

/**
 * {@code cublasComputeType_t} (docs/lora.md §4.1), with the type of the alpha and beta scalars it
 * implies. cuBLAS reads alpha and beta in that type: passing a float where {@link #COMPUTE_16F}
 * wants a half silently computes garbage, so the binding converts the caller's {@code double}
 * scalars itself.
 */
public enum CublasComputeType {
    COMPUTE_16F(64, CudaDataType.R_16F),
    COMPUTE_16F_PEDANTIC(65, CudaDataType.R_16F),
    COMPUTE_32F(68, CudaDataType.R_32F),
    COMPUTE_32F_PEDANTIC(69, CudaDataType.R_32F),
    COMPUTE_32F_FAST_16F(74, CudaDataType.R_32F),
    COMPUTE_32F_FAST_16BF(75, CudaDataType.R_32F),
    COMPUTE_32F_FAST_TF32(77, CudaDataType.R_32F),
    COMPUTE_64F(70, CudaDataType.R_64F),
    COMPUTE_64F_PEDANTIC(71, CudaDataType.R_64F),
    COMPUTE_32I(72, CudaDataType.R_32I),
    COMPUTE_32I_PEDANTIC(73, CudaDataType.R_32I);

    private final int value;
    private final CudaDataType scaleType;

    CublasComputeType(int value, CudaDataType scaleType) {
        this.value = value;
        this.scaleType = scaleType;
    }

    /** The {@code cublas_api.h} value. */
    public int value() {
        return value;
    }

    /** The type cuBLAS reads alpha and beta in. */
    public CudaDataType scaleType() {
        return scaleType;
    }
}
