package dev.safeload.cuda;

import java.util.List;

/**
 * Finds CUDA resources that were never closed. Every {@link DeviceBuffer}, {@link
 * PinnedHostBuffer}, {@link CudaStream}, {@link CudaEvent} and cuBLAS handle is counted while open
 * ({@link #open()}). With {@code -Dsafeload.cuda.leakDetection=true} each also records where it was
 * allocated, and one that is garbage-collected while still open is reported ({@link #reported()},
 * and a warning on the {@code dev.safeload.cuda.leaks} logger) with that stack. Tests assert both
 * lists are empty.
 */
public final class LeakDetector {
    /** The system property that turns on allocation-site capture: {@value}. */
    public static final String PROPERTY = ResourceTracker.PROPERTY;

    private LeakDetector() {}

    /** Whether allocation sites are captured and leaks reported. */
    public static boolean enabled() {
        return ResourceTracker.enabled();
    }

    /** Descriptions of the resources open now, across all contexts. */
    public static List<String> open() {
        return ResourceTracker.open();
    }

    /**
     * Leak reports so far: resources that were garbage-collected while open, with their allocation
     * stacks.
     */
    public static List<String> reported() {
        return ResourceTracker.reported();
    }

    /** Forgets earlier reports. */
    public static void clearReported() {
        ResourceTracker.clearReported();
    }
}
