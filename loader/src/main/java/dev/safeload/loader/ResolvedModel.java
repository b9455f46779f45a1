package dev.safeload.loader;

import java.net.URI;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A model after the resolve stage: where its files are now, and which revision they are.
 *
 * <p>The location is a URI so that a store that is not a filesystem (an {@code s3://} bucket) fits
 * the same stage; for the hub cache and local files it is a {@code file:} URI ({@link
 * #localPath()}).
 *
 * @param ref what was asked for
 * @param location where the files are: the snapshot folder, the local path, or the remote URI
 * @param commit the commit hash of a hub revision, or null when the model is not from the hub
 * @param downloadedBytes bytes downloaded by this resolve (0 when the cache held everything)
 * @param nanos how long the resolve took
 */
public record ResolvedModel(
        ModelRef ref, URI location, String commit, long downloadedBytes, long nanos) {
    /**
     * Checks the parts.
     *
     * @param ref what was asked for
     * @param location where the files are
     * @param commit the hub commit, or null
     * @param downloadedBytes bytes downloaded, at least 0
     * @param nanos the resolve's duration, at least 0
     */
    public ResolvedModel {
        Objects.requireNonNull(ref, "ref");
        Objects.requireNonNull(location, "location");
        if (downloadedBytes < 0 || nanos < 0) {
            throw new IllegalArgumentException("negative bytes or time");
        }
    }

    /**
     * A local file or folder, resolved in no time.
     *
     * @param path the file or folder
     * @return the resolved model
     */
    public static ResolvedModel ofPath(Path path) {
        return new ResolvedModel(ModelRef.local(path), path.toAbsolutePath().toUri(), null, 0, 0);
    }

    /**
     * The files as a local path, when they are on a filesystem.
     *
     * @return the path, or empty for a remote location
     */
    public Optional<Path> localPath() {
        return "file".equalsIgnoreCase(location.getScheme())
                ? Optional.of(Path.of(location))
                : Optional.empty();
    }

    /**
     * The commit, when the model came from the hub.
     *
     * @return the 40-hex commit hash, or empty
     */
    public Optional<String> revision() {
        return Optional.ofNullable(commit);
    }
}
