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
 *
 * <p>Ownership: the client owns its HTTP connections and one daemon thread that watches for stalled
 * downloads; {@link #close()} releases them. The files it returns belong to the cache, not to the
 * client: they stay valid after {@code close()}, until someone removes them from the cache (for
 * example with {@link CacheCleaner}).
 *
 * <p>Failures are {@link HubException}s whose {@link HubException#kind() kind} follows
 * huggingface_hub's error classes (docs/hub.md §2.8).
 */
public final class HubClient implements AutoCloseable {
    private final HubSettings settings;
    private final HubHttp http;
    private final FileResolver files;
    private final SnapshotResolver snapshots;

    /**
     * A client for the cache, endpoints, token and timeouts of {@code settings}.
     *
     * @param settings the configuration, for example {@link HubSettings#fromEnvironment()}
     */
    public HubClient(HubSettings settings) {
        this.settings = settings;
        this.http = new HubHttp(settings);
        this.files = new FileResolver(settings, http);
        this.snapshots = new SnapshotResolver(settings, http, files);
    }

    /**
     * The configuration this client was made with.
     *
     * @return the settings
     */
    public HubSettings settings() {
        return settings;
    }

    /**
     * {@code hf_hub_download}: one file into the cache (docs/hub.md §2.2).
     *
     * @param repo the repository
     * @param path the file's path in the repository, {@code /}-separated
     * @param revision a branch, tag, {@code refs/pr/N} or commit
     * @return the file's path inside {@code snapshots/<commit>/} (a link to its blob)
     * @throws HubException if the file cannot be resolved, downloaded or verified; with nothing
     *     cached, {@code OfflineMiss} in offline mode
     */
    public Path downloadFile(HubRepo repo, String path, String revision) {
        return downloadFile(repo, path, revision, false, DownloadListener.NONE);
    }

    /**
     * As {@link #downloadFile(HubRepo, String, String)}, with progress and a forced download.
     *
     * @param repo the repository
     * @param path the file's path in the repository, {@code /}-separated
     * @param revision a branch, tag, {@code refs/pr/N} or commit
     * @param force download again even when the cache has the file
     * @param listener progress callbacks, or {@link DownloadListener#NONE}
     * @return the file's path inside {@code snapshots/<commit>/}
     * @throws HubException if the file cannot be resolved, downloaded or verified
     */
    public Path downloadFile(
            HubRepo repo, String path, String revision, boolean force, DownloadListener listener) {
        return files.download(repo, path, revision, force, listener);
    }

    /**
     * {@code snapshot_download}: every file of a revision that {@code options} selects, fetched in
     * parallel (docs/hub.md §3.1).
     *
     * @param repo the repository
     * @param revision a branch, tag, {@code refs/pr/N} or commit
     * @param options which files, how many workers, progress
     * @return the folder {@code snapshots/<commit>} holding the chosen files
     * @throws HubException if the revision cannot be resolved or a file fails; the message counts
     *     the failed files and names the first
     */
    public Path snapshotDownload(HubRepo repo, String revision, SnapshotOptions options) {
        return snapshots.download(repo, revision, options);
    }

    /**
     * {@code try_to_load_from_cache}: what the cache alone says, without any request.
     *
     * @param repo the repository
     * @param path the file's path in the repository
     * @param revision a branch, tag, {@code refs/pr/N} or commit
     * @return the cached file, a record that the hub said it does not exist, or not cached
     */
    public CacheLookup tryLoadFromCache(HubRepo repo, String path, String revision) {
        return files.lookup(repo, path, revision);
    }

    /** Releases the HTTP connections and the stall watchdog; idempotent. */
    @Override
    public void close() {
        http.close();
    }
}
