package dev.safeload.safetensors;

import java.util.Objects;

/**
 * How an open {@link SafetensorsFile} reads its bytes, and why: the backend asked for in {@link
 * ReadOptions}, the one in use, and the type of the filesystem that holds the file (as the kernel
 * names it: {@code ext4}, {@code nfs4}, {@code fuse.sshfs}; {@code "unknown"} where it cannot be
 * told). With {@link ReadOptions.Backend#AUTO} the filesystem decides: positional reads on network
 * and FUSE filesystems, a mapping elsewhere.
 *
 * @param requested the backend of the {@link ReadOptions} the file was opened with
 * @param backend the backend in use: {@link ReadOptions.Backend#MMAP} or {@link
 *     ReadOptions.Backend#PREAD}, never {@code AUTO}
 * @param filesystem the filesystem type of the file's mount
 */
public record ReaderChoice(
        ReadOptions.Backend requested, ReadOptions.Backend backend, String filesystem) {
    public ReaderChoice {
        Objects.requireNonNull(requested, "requested");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(filesystem, "filesystem");
        if (backend == ReadOptions.Backend.AUTO) {
            throw new IllegalArgumentException("the backend in use is MMAP or PREAD, not AUTO");
        }
    }

    /**
     * Whether the filesystem chose the backend ({@link ReadOptions.Backend#AUTO} was asked for).
     */
    public boolean automatic() {
        return requested == ReadOptions.Backend.AUTO;
    }
}
