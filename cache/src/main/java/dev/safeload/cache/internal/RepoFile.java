package dev.safeload.cache.internal;

/**
 * One file of a repo listing ({@code /tree} or {@code trees/<commit>.json}). {@code blobId} is the
 * git blob sha1 (of the LFS pointer text for LFS files); {@code lfsSha256} and {@code lfsSize} are
 * set for LFS files; {@code size} is {@code -1} when only the name is known (a {@code siblings}
 * entry).
 */
public record RepoFile(
        String path, long size, String blobId, String lfsSha256, long lfsSize, String xetHash) {
    public static RepoFile nameOnly(String path) {
        return new RepoFile(path, -1, null, null, -1, null);
    }

    /** Whether the blob name and size are known, so no HEAD is needed before the GET. */
    public boolean hasMetadata() {
        return blobId != null && size >= 0;
    }

    /**
     * The blob name in the cache: the LFS sha256, else the git blob id (what HEAD's etag would
     * say).
     */
    public String etag() {
        return lfsSha256 != null ? lfsSha256 : blobId;
    }

    /** The size of the file's content (for an LFS file, of the object, not the pointer). */
    public long contentSize() {
        return lfsSha256 != null ? lfsSize : size;
    }
}
