package dev.safeload.cuda;

import dev.safeload.cuda.internal.driver.Driver;
import dev.safeload.cuda.internal.driver.JCudaNatives;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Entry point of the CUDA layer: whether CUDA can be used here, and the devices.
 *
 * <p>{@link #isAvailable()} never throws: on a machine without an NVIDIA driver or device (or where
 * JCuda's natives cannot load) it returns {@code false} and {@link #unavailableReason()} says why.
 * Everything else in this package starts with {@link #require()}, so asking for CUDA where there is
 * none gives one clear {@link CudaException} of kind {@link CudaError#CUDA_UNAVAILABLE}.
 *
 * {@snippet :
 * try (CudaContext context = Cuda.device(0).openContext();
 *      DeviceBuffer buffer = context.allocate(1 << 20)) {
 *     buffer.fill((byte) 0);
 * }
 * }
 *
 * <p>JCuda must be on the class path (its natives cannot load from the module path), and the JVM
 * needs {@code --enable-native-access=ALL-UNNAMED} for JCuda's JNI and the cuBLAS binding.
 */
public final class Cuda {
    private Cuda() {}

    /** What the one-time probe found. */
    private record Probe(String reason, int driverVersion, List<CudaDevice> devices) {}

    private static final class Holder {
        static final Probe PROBE = probe();
    }

    /** Whether a CUDA driver and at least one device are usable. Never throws. */
    public static boolean isAvailable() {
        return Holder.PROBE.reason() == null;
    }

    /** Why CUDA cannot be used here, or empty when it can. */
    public static Optional<String> unavailableReason() {
        return Optional.ofNullable(Holder.PROBE.reason());
    }

    /** Throws the one clear "no CUDA here" error unless {@link #isAvailable()}. */
    public static void require() {
        String reason = Holder.PROBE.reason();
        if (reason != null) {
            throw new CudaException(
                    CudaError.CUDA_UNAVAILABLE, "cuInit", "CUDA is not available: " + reason, null);
        }
    }

    /** The driver's CUDA version as {@code 1000 * major + 10 * minor} (13000 for 13.0). */
    public static int driverVersion() {
        require();
        return Holder.PROBE.driverVersion();
    }

    /** The visible devices, in CUDA ordinal order. */
    public static List<CudaDevice> devices() {
        require();
        return Holder.PROBE.devices();
    }

    /** The device with CUDA ordinal {@code ordinal}. */
    public static CudaDevice device(int ordinal) {
        List<CudaDevice> devices = devices();
        if (ordinal < 0 || ordinal >= devices.size()) {
            throw new CudaException(
                    CudaError.CUDA_ERROR_INVALID_DEVICE,
                    CudaError.CUDA_ERROR_INVALID_DEVICE.code(),
                    "cuDeviceGet(" + ordinal + ")",
                    String.format(
                            Locale.ROOT,
                            "no CUDA device %d: %d visible (CUDA_VISIBLE_DEVICES may hide some)",
                            ordinal,
                            devices.size()),
                    null);
        }
        return devices.get(ordinal);
    }

    private static Probe probe() {
        int init;
        try {
            init = JCudaNatives.withPrivateLibrary(() -> Driver.call(() -> JCudaDriver.cuInit(0)));
        } catch (LinkageError e) {
            // UnsatisfiedLinkError (no libcuda.so.1, or the natives jar missing or on the module
            // path), NoClassDefFoundError (no jcuda jar), ExceptionInInitializerError.
            return unavailable(
                    "JCuda's driver binding could not load ("
                            + summarize(e)
                            + "); it needs an NVIDIA driver (libcuda.so.1) and jcuda +"
                            + " jcuda-natives 12.6.0 on the class path");
        } catch (IllegalCallerException e) {
            return unavailable(
                    "native access is denied ("
                            + e.getMessage()
                            + "); start the JVM with --enable-native-access=ALL-UNNAMED");
        }
        if (init != CUresult.CUDA_SUCCESS) {
            return unavailable(Driver.failure(init, "cuInit(0)", adviceFor(init)).getMessage());
        }
        try {
            int[] version = new int[1];
            Driver.check(() -> JCudaDriver.cuDriverGetVersion(version), "cuDriverGetVersion");
            int[] count = new int[1];
            Driver.check(() -> JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
            if (count[0] == 0) {
                return unavailable(
                        "the CUDA driver sees no device (check CUDA_VISIBLE_DEVICES and"
                                + " nvidia-smi)");
            }
            List<CudaDevice> devices = new ArrayList<>();
            for (int i = 0; i < count[0]; i++) {
                devices.add(CudaDevice.query(i));
            }
            return new Probe(null, version[0], List.copyOf(devices));
        } catch (CudaException e) {
            return unavailable(e.getMessage());
        } catch (RuntimeException e) {
            // isAvailable() never throws, whatever a broken driver or binding does.
            return unavailable(e.toString());
        }
    }

    /**
     * The line that explains a JCuda load failure. JCuda's message carries every attempt's stack
     * trace; the dynamic loader's own line ("libcuda.so.1: cannot open shared object file") is the
     * one a user needs.
     */
    static String summarize(Throwable e) {
        String message = String.valueOf(e.getMessage());
        String[] lines = message.split("\\R");
        for (String line : lines) {
            if (line.contains("cannot open shared object file")
                    || line.contains("undefined symbol")) {
                return line.replaceFirst("^java\\.lang\\.UnsatisfiedLinkError: ", "").trim();
            }
        }
        return e.getClass().getSimpleName() + ": " + lines[0].trim();
    }

    private static String adviceFor(int result) {
        return switch (result) {
            case 100 ->
                    "no CUDA-capable device is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)";
            case 35, 803 ->
                    "the NVIDIA driver is too old or does not match its kernel module; update the"
                            + " driver";
            case 34 ->
                    "libcuda.so.1 is the toolkit's stub, not a real driver; install the NVIDIA"
                            + " driver";
            default -> "";
        };
    }

    private static Probe unavailable(String reason) {
        return new Probe(reason, 0, List.of());
    }
}
