package dev.safeload.lora;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Activations in host memory, little-endian elements of {@code precision}.
 *
 * @param data at least {@code rows · cols} elements
 */
public record HostActivations(MemorySegment data, Precision precision, int rows, int cols)
        implements Activations {
    public HostActivations {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(precision, "precision");
        if (rows < 0 || cols < 0 || data.byteSize() < (long) rows * cols * precision.byteSize()) {
            throw new IllegalArgumentException(
                    "a "
                            + rows
                            + "x"
                            + cols
                            + " "
                            + precision
                            + " matrix needs "
                            + (long) rows * cols * precision.byteSize()
                            + " bytes, segment has "
                            + data.byteSize());
        }
    }
}
