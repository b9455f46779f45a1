package dev.safeload.cache;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;

/**
 * One file of a cached revision, as huggingface_hub's {@code CachedFileInfo} describes it. A value
 * from a {@link CacheScanner} scan: it describes files and owns none of them.
 *
 * @param path the file's path inside the snapshot, with {@code /} separators
 * @param filePath {@code snapshots/<commit>/<path>} (normally a symlink)
 * @param blobPath what the snapshot entry points at: {@code blobs/<etag>}, or the entry itself when
 *     it is a regular file (a cache written without symlinks)
 * @param size the blob's size in bytes
 * @param blobLastAccessed the blob's access time
 * @param blobLastModified the blob's modification time
 */
public record CachedFile(
        String path,
        Path filePath,
        Path blobPath,
        long size,
        Instant blobLastAccessed,
        Instant blobLastModified) {
    /** Checks that no component is null. */
    public CachedFile {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(filePath, "filePath");
        Objects.requireNonNull(blobPath, "blobPath");
        Objects.requireNonNull(blobLastAccessed, "blobLastAccessed");
        Objects.requireNonNull(blobLastModified, "blobLastModified");
    }
}
