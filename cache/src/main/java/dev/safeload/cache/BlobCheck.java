package dev.safeload.cache;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The outcome of rehashing one blob against its name, one element of what {@link
 * CacheVerifier#verify} returns. A plain value: it holds paths and hashes, no open files.
 *
 * @param cacheId the repository, {@code model/org/name}
 * @param blob {@code blobs/<name>}
 * @param algorithm {@code sha256} for a 64-hex (LFS) name, {@code git-sha1} for a 40-hex name
 * @param size the blob's size in bytes
 * @param actual the hash of the content, or {@code null} when it could not be read
 * @param error why it could not be read, or {@code null}
 */
public record BlobCheck(
        String cacheId, Path blob, String algorithm, long size, String actual, String error) {
    /** Checks that the repository, blob and algorithm are given. */
    public BlobCheck {
        Objects.requireNonNull(cacheId, "cacheId");
        Objects.requireNonNull(blob, "blob");
        Objects.requireNonNull(algorithm, "algorithm");
    }

    /** {@return the hash the blob's file name claims} */
    public String expected() {
        return blob.getFileName().toString();
    }

    /** {@return whether the blob was read and its content hashes to its name} */
    public boolean ok() {
        return error == null && expected().equals(actual);
    }

    /** {@return one line for a failed check, saying what is wrong and what to do} */
    public String describe() {
        if (error != null) {
            return String.format(
                    java.util.Locale.ROOT, "%s: cannot read %s: %s", cacheId, blob, error);
        }
        return String.format(
                java.util.Locale.ROOT,
                "%s: %s is corrupt: %s of its %d bytes is %s (delete the revisions using it and"
                        + " download again)",
                cacheId,
                blob,
                algorithm,
                size,
                actual);
    }
}
