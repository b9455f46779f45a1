package dev.safeload.cuda;

/** The condition of {@link RequiresGpu}. */
public final class GpuProbe {
    private GpuProbe() {}

    /**
     * Whether GPU tests should run here: a device is visible, or {@code
     * -Dsafeload.gpu.required=true}.
     */
    public static boolean available() {
        if (Boolean.getBoolean("safeload.gpu.required")) {
            return true;
        }
        if (!Cuda.isAvailable()) {
            System.err.println("GPU tests skipped: " + Cuda.unavailableReason().orElse(""));
            return false;
        }
        return true;
    }
}
