package dev.safeload.lora;

import java.util.Objects;

/**
 * Rows {@code [firstRow, firstRow + rowCount)} of a batch belong to adapter {@code adapterId},
 * applied at {@code scale} (a multiplier on the adapter's alpha/r; 1 = as trained). The Punica
 * "segment" (docs/lora.md §3.1).
 */
public record Segment(String adapterId, int firstRow, int rowCount, float scale) {
    public Segment {
        Objects.requireNonNull(adapterId, "adapterId");
        if (firstRow < 0 || rowCount < 0) {
            throw new IllegalArgumentException("negative row range " + firstRow + "+" + rowCount);
        }
    }

    public int endRow() {
        return firstRow + rowCount;
    }
}
