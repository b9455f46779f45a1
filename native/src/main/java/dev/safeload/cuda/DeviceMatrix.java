package dev.safeload.cuda;

import java.util.Objects;

/**
 * A GEMM operand: column-major data of {@code type} in {@code buffer}, {@code ld} elements between
 * columns (cuBLAS's leading dimension). A row-major R×C matrix is the column-major C×R matrix, its
 * transpose, with {@code ld = C} (docs/lora.md §4.3).
 */
public record DeviceMatrix(DeviceBuffer buffer, CudaDataType type, int ld) {
    public DeviceMatrix {
        Objects.requireNonNull(buffer, "buffer");
        Objects.requireNonNull(type, "type");
        if (ld < 1) {
            throw new IllegalArgumentException("leading dimension must be at least 1, not " + ld);
        }
    }
}
