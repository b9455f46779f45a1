package dev.safeload.safetensors;

import java.util.Objects;

/**
 * How {@link SafetensorsFile#open(java.nio.file.Path, ReadOptions)} reads a file.
 *
 * @param backend {@link Backend#MMAP} (default) or {@link Backend#PREAD}
 * @param limits the bounds applied to the header
 */
public record ReadOptions(Backend backend, SafetensorsLimits limits) {
    /** Memory-mapped, reference limits. */
    public static final ReadOptions DEFAULT =
            new ReadOptions(Backend.MMAP, SafetensorsLimits.DEFAULT);

    public ReadOptions {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(limits, "limits");
    }

    /** The given backend with reference limits. */
    public static ReadOptions of(Backend backend) {
        return new ReadOptions(backend, SafetensorsLimits.DEFAULT);
    }

    /** A copy with other limits. */
    public ReadOptions withLimits(SafetensorsLimits newLimits) {
        return new ReadOptions(backend, newLimits);
    }

    /** How tensor bytes reach memory. */
    public enum Backend {
        /**
         * One read-only mapping of the whole file; tensor views are zero-copy slices of it. Fast on
         * local disks; on network filesystems every page fault is a round trip.
         */
        MMAP,
        /**
         * Positional reads ({@code pread(2)} through {@code FileChannel.read(ByteBuffer, long)})
         * into caller memory; for NFS, Lustre and other filesystems where mapping is slow or unsafe
         * (a truncated file kills a mapping process with SIGBUS, a read just fails).
         */
        PREAD
    }
}
