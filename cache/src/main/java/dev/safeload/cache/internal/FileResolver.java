package dev.safeload.cache.internal;

import dev.safeload.cache.CacheLookup;
import dev.safeload.cache.DownloadListener;
import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;
import dev.safeload.cache.HubRepo;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.RepoCacheLayout;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Resolves one file to {@code snapshots/<commit>/<path>}, huggingface_hub's {@code
 * _hf_hub_download_to_cache_dir} (docs/hub.md §2.2): a commit already in the snapshot costs no
 * request; otherwise one HEAD gives commit, etag and size; the blob is downloaded under its lock
 * only when missing; the snapshot entry is a relative symlink to it.
 */
public final class FileResolver {
    /** Errors after which the cache may still answer (huggingface_hub falls back for these too). */
    private static final Set<HubError> CACHE_FALLBACK =
            Set.of(
                    HubError.Network,
                    HubError.ServerError,
                    HubError.RepoNotFound,
                    HubError.GatedRepo,
                    HubError.Unauthorized);

    private final HubSettings settings;
    private final HubHttp http;
    private final CacheWriter writer;
    private final BlobFetcher fetcher;

    public FileResolver(HubSettings settings, HubHttp http) {
        this.settings = settings;
        this.http = http;
        this.writer = new CacheWriter(settings.cacheDir(), settings.symlinksDisabled());
        this.fetcher = new BlobFetcher(http);
    }

    public CacheWriter writer() {
        return writer;
    }

    public RepoCacheLayout layout(HubRepo repo) {
        return repo.layout(settings.cacheDir());
    }

    /** {@code hf_hub_download} into the cache; returns the snapshot path. */
    public Path download(
            HubRepo repo, String path, String revision, boolean force, DownloadListener listener) {
        SafeNames.filePath(path);
        SafeNames.revision(revision);
        RepoCacheLayout layout = layout(repo);
        if (!force && RepoCacheLayout.isCommit(revision)) {
            Path pointer = layout.snapshotFile(revision, path);
            if (Files.exists(pointer)) {
                listener.fileFinished(path, pointer, true);
                return pointer;
            }
        }
        if (settings.offline()) {
            return cachedOrThrow(
                    layout,
                    repo,
                    path,
                    revision,
                    "offline mode is enabled (HF_HUB_OFFLINE or --offline)");
        }
        FileMetadata meta;
        try {
            meta = http.head(repo, revision, path, 1, listener);
        } catch (MissingEntryException e) {
            if (e.commit() != null) {
                writer.markMissing(layout, e.commit(), path);
                try {
                    writer.writeRef(layout, revision, e.commit());
                } catch (HubException ignored) {
                    // the marker is a hint; a read-only cache just does not get it
                }
            }
            throw e;
        } catch (HubException e) {
            if (!CACHE_FALLBACK.contains(e.kind())) {
                throw e;
            }
            Path cached = cachedPointer(layout, path, revision);
            if (cached != null && !force) {
                listener.fileFinished(path, cached, true);
                return cached;
            }
            if (e.kind() != HubError.Network && e.kind() != HubError.ServerError) {
                throw e;
            }
            meta = http.head(repo, revision, path, settings.maxRetries() + 1, listener);
        }
        writer.tagCacheDir();
        writer.writeRef(layout, revision, meta.commit());
        List<BlobFetcher.Source> sources = new ArrayList<>();
        sources.add(new BlobFetcher.Source(meta.location(), meta.endpoint()));
        sources.addAll(otherEndpoints(repo, meta.commit(), path, meta.endpoint()));
        return materialize(
                layout, path, meta.commit(), meta.etag(), meta.size(), sources, force, listener);
    }

    /**
     * A file whose blob name and size are already known (from a listing): no HEAD, one GET when
     * missing.
     */
    public Path downloadKnown(
            HubRepo repo, String commit, RepoFile file, boolean force, DownloadListener listener) {
        String etag = SafeNames.etag(file.etag(), "the listing of " + repo);
        List<BlobFetcher.Source> sources = otherEndpoints(repo, commit, file.path(), null);
        return materialize(
                layout(repo),
                file.path(),
                commit,
                etag,
                file.contentSize(),
                sources,
                force,
                listener);
    }

    private List<BlobFetcher.Source> otherEndpoints(
            HubRepo repo, String commit, String path, URI except) {
        List<BlobFetcher.Source> sources = new ArrayList<>();
        for (URI endpoint : settings.endpoints()) {
            if (!endpoint.equals(except)) {
                sources.add(
                        new BlobFetcher.Source(
                                HubHttp.resolveUrl(endpoint, repo, commit, path), endpoint));
            }
        }
        return sources;
    }

    private Path materialize(
            RepoCacheLayout layout,
            String path,
            String commit,
            String etag,
            long size,
            List<BlobFetcher.Source> sources,
            boolean force,
            DownloadListener listener) {
        Path pointer = layout.snapshotFile(commit, path);
        Path blob = layout.blob(etag);
        if (!force && reuse(pointer, blob, path, listener)) {
            return pointer;
        }
        if (settings.offline()) {
            throw new HubException(
                    HubError.OfflineMiss,
                    "offline mode is enabled and "
                            + path
                            + " of commit "
                            + commit
                            + " is not in the cache "
                            + layout.repoDir());
        }
        writer.tagCacheDir();
        try (BlobLock lock = BlobLock.acquire(layout.lock(etag))) {
            // Another process may have finished while we waited for the lock.
            if (!force && reuse(pointer, blob, path, listener)) {
                return pointer;
            }
            fetcher.fetch(blob, path, size, sources, lock, listener);
            writer.link(blob, pointer, true);
        }
        listener.fileFinished(path, pointer, false);
        return pointer;
    }

    /** Whether the cache already has the file: its snapshot entry, or its blob (then linked). */
    private boolean reuse(Path pointer, Path blob, String path, DownloadListener listener) {
        if (Files.exists(pointer)) {
            listener.fileFinished(path, pointer, true);
            return true;
        }
        if (Files.isRegularFile(blob)) {
            writer.link(blob, pointer, false);
            listener.fileFinished(path, pointer, true);
            return true;
        }
        return false;
    }

    /** huggingface_hub's {@code try_to_load_from_cache}. */
    public CacheLookup lookup(HubRepo repo, String path, String revision) {
        SafeNames.filePath(path);
        SafeNames.revision(revision);
        RepoCacheLayout layout = layout(repo);
        String commit = CacheWriter.readRef(layout, revision);
        if (commit == null) {
            return new CacheLookup.NotCached();
        }
        Path pointer = layout.snapshotFile(commit, path);
        if (Files.exists(pointer)) {
            return new CacheLookup.Cached(pointer);
        }
        if (Files.exists(layout.noExistFile(commit, path))) {
            return new CacheLookup.KnownMissing(commit);
        }
        return new CacheLookup.NotCached();
    }

    private Path cachedPointer(RepoCacheLayout layout, String path, String revision) {
        String commit = CacheWriter.readRef(layout, revision);
        if (commit == null) {
            return null;
        }
        Path pointer = layout.snapshotFile(commit, path);
        return Files.exists(pointer) ? pointer : null;
    }

    private Path cachedOrThrow(
            RepoCacheLayout layout, HubRepo repo, String path, String revision, String why) {
        Path cached = cachedPointer(layout, path, revision);
        if (cached != null) {
            return cached;
        }
        String commit = CacheWriter.readRef(layout, revision);
        String missing =
                commit == null
                        ? "the cache has no "
                                + (RepoCacheLayout.isCommit(revision) ? "snapshot " : "refs/")
                                + revision
                        : "snapshots/" + commit + "/" + path + " is missing";
        throw new HubException(
                HubError.OfflineMiss,
                String.format(
                        java.util.Locale.ROOT,
                        "%s and %s %s at %s is not in the cache %s: %s. Download it once with"
                                + " network access.",
                        why,
                        repo,
                        path,
                        revision,
                        layout.repoDir(),
                        missing));
    }
}
