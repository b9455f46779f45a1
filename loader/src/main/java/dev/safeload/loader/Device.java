package dev.safeload.loader;

import java.util.Locale;
import java.util.Objects;

/**
 * Where a {@link LoadedModel} lives: host memory ({@code cpu}) or the memory of one CUDA device
 * ({@code cuda:N}, N its CUDA ordinal).
 *
 * @param kind host memory or a CUDA device
 * @param ordinal the CUDA ordinal; 0 for the CPU
 */
public record Device(Kind kind, int ordinal) {
    /** The kinds of memory a model can be placed in. */
    public enum Kind {
        /** Host memory; tensors are {@link java.lang.foreign.MemorySegment}s. */
        CPU,
        /** Device memory of a CUDA GPU; tensors are device buffers. */
        CUDA
    }

    /**
     * Checks the ordinal.
     *
     * @param kind host memory or a CUDA device
     * @param ordinal the CUDA ordinal, 0 for the CPU
     */
    public Device {
        Objects.requireNonNull(kind, "kind");
        if (ordinal < 0 || (kind == Kind.CPU && ordinal != 0)) {
            throw new IllegalArgumentException("invalid " + kind + " ordinal " + ordinal);
        }
    }

    /**
     * Host memory.
     *
     * @return the CPU device
     */
    public static Device cpu() {
        return new Device(Kind.CPU, 0);
    }

    /**
     * The CUDA device with this ordinal.
     *
     * @param ordinal the CUDA ordinal, 0 for the first device
     * @return that device
     */
    public static Device cuda(int ordinal) {
        return new Device(Kind.CUDA, ordinal);
    }

    /**
     * Parses {@code cpu}, {@code cuda} (device 0) or {@code cuda:N}, as PyTorch spells devices.
     *
     * @param text the device name
     * @return the device
     * @throws LoaderException {@link LoaderError#InvalidDevice} for anything else
     */
    public static Device parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("cpu")) {
            return cpu();
        }
        if (t.equals("cuda")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:") && t.length() > 5 && t.length() <= 8) {
            String n = t.substring(5);
            if (n.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return cuda(Integer.parseInt(n));
            }
        }
        throw new LoaderException(
                LoaderError.InvalidDevice,
                "'" + text + "' is not a device: use cpu, cuda or cuda:N (N the CUDA ordinal)");
    }

    /**
     * Whether this is a CUDA device.
     *
     * @return true for {@code cuda:N}
     */
    public boolean isCuda() {
        return kind == Kind.CUDA;
    }

    /** {@code cpu} or {@code cuda:N}, the form {@link #parse} reads. */
    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + ordinal;
    }
}
