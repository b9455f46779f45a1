package dev.safeload.cuda;

/**
 * {@code cudaDataType_t} values of {@code library_types.h} for GEMM operands (docs/lora.md §4.1).
 */
public enum CudaDataType {
    R_16F(2, 2),
    R_16BF(14, 2),
    R_32F(0, 4),
    R_64F(1, 8),
    R_8I(3, 1),
    R_32I(10, 4);

    private final int value;
    private final int byteSize;

    CudaDataType(int value, int byteSize) {
        this.value = value;
        this.byteSize = byteSize;
    }

    /** The {@code library_types.h} value. */
    public int value() {
        return value;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }
}
