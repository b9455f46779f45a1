package dev.safeload.safetensors.internal;

import dev.safeload.safetensors.ReadOptions.Backend;
import dev.safeload.safetensors.ReaderChoice;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns {@link Backend#AUTO} into a backend for one file, from the type of the filesystem that
 * holds it (docs/safetensors.md §4.6): {@code /proc/self/mountinfo} on Linux, the JDK's {@code
 * FileStore.type()} elsewhere.
 */
public final class ReaderSelection {
    private ReaderSelection() {}

    /** The choice for {@code file} (an existing file) when {@code requested} was asked for. */
    public static ReaderChoice choose(Path file, Backend requested) {
        return choose(file, requested, MountTable.current());
    }

    /** As {@link #choose(Path, Backend)}, with the given mounts (for tests). */
    public static ReaderChoice choose(Path file, Backend requested, MountTable mounts) {
        String type = filesystemType(file, mounts);
        Backend backend =
                requested != Backend.AUTO
                        ? requested
                        : MountTable.prefersPositionalReads(type) ? Backend.PREAD : Backend.MMAP;
        return new ReaderChoice(requested, backend, type);
    }

    static String filesystemType(Path file, MountTable mounts) {
        Path real;
        try {
            real = file.toRealPath();
        } catch (IOException | SecurityException e) {
            real = file.toAbsolutePath().normalize();
        }
        if (!mounts.mounts().isEmpty()) {
            return mounts.mountOf(real.toString()).map(MountTable.Mount::type).orElse("unknown");
        }
        try {
            return Files.getFileStore(real).type();
        } catch (IOException | SecurityException e) {
            return "unknown";
        }
    }
}
