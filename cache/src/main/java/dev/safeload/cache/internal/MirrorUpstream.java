package dev.safeload.cache.internal;

import dev.safeload.cache.RepoType;

/** Where the mirror server pulls what its cache lacks. */
public interface MirrorUpstream {
    /** No upstream: the cache alone answers. */
    MirrorUpstream NONE =
            new MirrorUpstream() {
                @Override
                public boolean enabled() {
                    return false;
                }

                @Override
                public void pull(RepoType type, String repoId, String revision, String path) {}
            };

    boolean enabled();

    /**
     * Brings {@code path} at {@code revision} of the repository into the cache, or, when {@code
     * path} is null, the whole snapshot of {@code revision}. Failures (the upstream is down, does
     * not know the file) are swallowed: the server then answers from the cache alone.
     */
    void pull(RepoType type, String repoId, String revision, String path);
}
