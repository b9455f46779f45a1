package dev.safeload.loader;

import java.util.Objects;

/**
 * How long one stage took and how many bytes it moved.
 *
 * @param stage the stage
 * @param nanos its wall time
 * @param bytes the bytes it moved: downloaded (resolve), of the files validated (open), copied to
 *     the device (place), of the weights the adapters changed (adapters)
 */
public record StageTiming(LoadStage stage, long nanos, long bytes) {
    /**
     * Checks the parts.
     *
     * @param stage the stage
     * @param nanos its wall time, at least 0
     * @param bytes its bytes, at least 0
     */
    public StageTiming {
        Objects.requireNonNull(stage, "stage");
        if (nanos < 0 || bytes < 0) {
            throw new IllegalArgumentException("negative time or bytes in " + stage);
        }
    }

    /**
     * The wall time in seconds.
     *
     * @return seconds
     */
    public double seconds() {
        return nanos / 1e9;
    }

    /**
     * The rate in GB/s (10^9 bytes per second).
     *
     * @return bytes per nanosecond, 0 when no time passed
     */
    public double gigabytesPerSecond() {
        return nanos == 0 ? 0 : bytes / (double) nanos;
    }
}
