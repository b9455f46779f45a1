package dev.safeload.lora;

import dev.safeload.cuda.DeviceBuffer;

import java.util.Objects;

/**
 * Activations in device memory for the CUDA backend's {@link AdapterPool}: row-major {@code rows ×
 * cols} elements of {@code precision} (F16 or BF16, as cuBLAS's fp16/bf16 GEMMs take).
 */
public record DeviceActivations(DeviceBuffer buffer, Precision precision, int rows, int cols)
        implements Activations {
    public DeviceActivations {
        Objects.requireNonNull(buffer, "buffer");
        Objects.requireNonNull(precision, "precision");
        if (rows < 0 || cols < 0 || buffer.byteSize() < (long) rows * cols * precision.byteSize()) {
            throw new IllegalArgumentException(
                    "a "
                            + rows
                            + "x"
                            + cols
                            + " "
                            + precision
                            + " matrix needs "
                            + (long) rows * cols * precision.byteSize()
                            + " bytes, buffer has "
                            + buffer.byteSize());
        }
    }
}
