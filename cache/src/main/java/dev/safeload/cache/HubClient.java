package dev.safeload.cache;

import dev.safeload.cache.internal.FileResolver;
import dev.safeload.cache.internal.HubHttp;
import dev.safeload.cache.internal.SnapshotResolver;

import java.nio.file.Path;

/**
 * Resolves files and snapshots of hub repos into the hub cache that huggingface_hub uses, so that
 * Python and Java share one cache.
 *
 * {@snippet :
 * try (HubClient hub = new HubClient(HubSettings.fromEnvironment())) {
 *     Path config = hub.downloadFile(HubRepo.model("org/name"), "config.json", "main");
 *     Path snapshot = hub.snapshotDownload(HubRepo.model("org/name"), "main",
 *             SnapshotOptions.defaults().withInclude("*.safetensors", "*.json"));
 * }
 * }
 *
 * <p>A file already complete in the cache costs no request when the revision is a commit hash and
 * one HEAD otherwise. Downloads retry, resume after dropped connections and killed processes, and
 * are verified (size; sha256 for LFS files) before they become visible. Thread-safe; several
 * processes may share one cache.
 */
public final class HubClient implements AutoCloseable {
    private final HubSettings settings;
    private final HubHttp http;
    private final FileResolver files;
    private final SnapshotResolver snapshots;

    public HubClient(HubSettings settings) {
        this.settings = settings;
        this.http = new HubHttp(settings);
        this.files = new FileResolver(settings, http);
        this.snapshots = new SnapshotResolver(settings, http, files);
    }

    public HubSettings settings() {
        return settings;
    }

    /** {@code hf_hub_download}: the path of {@code path} inside {@code snapshots/<commit>/}. */
    public Path downloadFile(HubRepo repo, String path, String revision) {
        return downloadFile(repo, path, revision, false, DownloadListener.NONE);
    }

    /**
     * As {@link #downloadFile(HubRepo, String, String)}; {@code force} downloads again what the
     * cache has.
     */
    public Path downloadFile(
            HubRepo repo, String path, String revision, boolean force, DownloadListener listener) {
        return files.download(repo, path, revision, force, listener);
    }

    /**
     * {@code snapshot_download}: the folder {@code snapshots/<commit>} holding the chosen files.
     */
    public Path snapshotDownload(HubRepo repo, String revision, SnapshotOptions options) {
        return snapshots.download(repo, revision, options);
    }

    /** {@code try_to_load_from_cache}: what the cache alone says, without any request. */
    public CacheLookup tryLoadFromCache(HubRepo repo, String path, String revision) {
        return files.lookup(repo, path, revision);
    }

    @Override
    public void close() {
        http.close();
    }
}
