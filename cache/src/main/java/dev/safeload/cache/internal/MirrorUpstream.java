package dev.safeload.cache.internal;

import dev.safeload.cache.RepoType;

/** Where the mirror server pulls what its cache lacks. */
public interface MirrorUpstream {
    /** No upstream: misses are 404s. */
    MirrorUpstream NONE = (type, repoId, revision, path) -> false;

    /**
     * Brings {@code revision} (and {@code path} at it, when not null) of the repository into the
     * cache; returns whether anything may have changed there. Failures are reported as {@code false}
     * so that the server answers from the cache alone.
     */
    boolean pull(RepoType type, String repoId, String revision, String path);
}
