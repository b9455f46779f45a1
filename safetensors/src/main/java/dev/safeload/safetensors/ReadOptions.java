package dev.safeload.safetensors;

import java.util.Objects;

/**
 * How {@link SafetensorsFile#open(java.nio.file.Path, ReadOptions)} reads a file.
 *
 * @param backend {@link Backend#AUTO} (default: chosen per file from its filesystem), {@link
 *     Backend#MMAP} or {@link Backend#PREAD}
 * @param limits the bounds applied to the header
 */
public record ReadOptions(Backend backend, SafetensorsLimits limits) {
    /** The backend chosen per file ({@link Backend#AUTO}), reference limits. */
    public static final ReadOptions DEFAULT =
            new ReadOptions(Backend.AUTO, SafetensorsLimits.DEFAULT);

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
         * {@link #PREAD} for a file on a network or FUSE filesystem (NFS, Lustre, CIFS/SMB, 9p,
         * FUSE, CephFS, GPFS, BeeGFS, AFS), {@link #MMAP} elsewhere, decided per file from the type
         * of the mount that holds it ({@code /proc/self/mountinfo} on Linux). {@link
         * SafetensorsFile#readerChoice()} tells which was taken.
         */
        AUTO,
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
