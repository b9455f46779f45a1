package dev.safeload.cache.internal;

import dev.safeload.cache.DownloadListener;
import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;
import dev.safeload.cache.HubRepo;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.RepoCacheLayout;
import dev.safeload.cache.SnapshotOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * huggingface_hub's {@code snapshot_download} into the cache (docs/hub.md §3.1): the revision
 * becomes a commit, the commit's listing is filtered by the globs, and the files are fetched by
 * parallel workers. With a commit as revision and a complete snapshot (its listing in {@code
 * trees/<commit>.json}) nothing is requested at all; with a branch, one API call.
 */
public final class SnapshotResolver {
    private final HubSettings settings;
    private final FileResolver files;
    private final RepoListing listing;

    public SnapshotResolver(HubSettings settings, HubHttp http, FileResolver files) {
        this.settings = settings;
        this.files = files;
        this.listing = new RepoListing(http);
    }

    public Path download(HubRepo repo, String revision, SnapshotOptions options) {
        SafeNames.revision(revision);
        RepoCacheLayout layout = files.layout(repo);
        RepoGlob glob = new RepoGlob(options.include(), options.exclude());
        DownloadListener listener = options.listener();
        if (settings.offline()) {
            return cachedSnapshot(
                    layout,
                    repo,
                    revision,
                    glob,
                    "offline mode is enabled (HF_HUB_OFFLINE or --offline)",
                    null);
        }
        RepoListing.RevisionInfo info = null;
        String commit = revision;
        if (!RepoCacheLayout.isCommit(revision)) {
            try {
                info = listing.revision(repo, revision, listener);
                commit = info.sha();
            } catch (HubException e) {
                if (e.kind() == HubError.RevisionNotFound) {
                    throw e;
                }
                return cachedSnapshot(
                        layout, repo, revision, glob, "the hub could not be asked", e);
            }
        }
        List<RepoFile> all = RepoListing.readTreeCache(layout, commit);
        if (all == null) {
            all = listing.files(repo, commit, info, listener);
            RepoListing.writeTreeCache(layout, commit, all);
        }
        List<RepoFile> chosen = all.stream().filter(f -> glob.accepts(f.path())).toList();
        files.writer().tagCacheDir();
        try {
            files.writer().writeRef(layout, revision, commit);
        } catch (HubException e) {
            // as snapshot_download: a ref that cannot be written does not stop the download
        }
        listener.snapshotPlanned(
                chosen.size(), chosen.stream().mapToLong(f -> Math.max(0, f.contentSize())).sum());
        fetchAll(repo, commit, chosen, options);
        Path dir = layout.snapshotDir(commit);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new HubException(HubError.Io, "cannot create " + dir + ": " + e.getMessage(), e);
        }
        return dir;
    }

    private void fetchAll(
            HubRepo repo, String commit, List<RepoFile> chosen, SnapshotOptions options) {
        if (chosen.isEmpty()) {
            return;
        }
        int workers = Math.min(options.workers(), chosen.size());
        ExecutorService pool =
                Executors.newFixedThreadPool(
                        workers,
                        r -> {
                            Thread t = new Thread(r, "safeload-snapshot-worker");
                            t.setDaemon(true);
                            return t;
                        });
        try {
            List<Future<Path>> futures = new ArrayList<>();
            for (RepoFile file : chosen) {
                futures.add(
                        pool.submit(
                                () ->
                                        file.hasMetadata()
                                                ? files.downloadKnown(
                                                        repo,
                                                        commit,
                                                        file,
                                                        options.forceDownload(),
                                                        options.listener())
                                                : files.download(
                                                        repo,
                                                        file.path(),
                                                        commit,
                                                        options.forceDownload(),
                                                        options.listener())));
            }
            List<Throwable> failures = new ArrayList<>();
            for (Future<Path> future : futures) {
                try {
                    future.get();
                } catch (ExecutionException e) {
                    failures.add(e.getCause());
                }
            }
            if (!failures.isEmpty()) {
                Throwable first = failures.getFirst();
                String message =
                        String.format(
                                Locale.ROOT,
                                "%d of %d files of %s at %s failed; first: %s",
                                failures.size(),
                                chosen.size(),
                                repo,
                                commit,
                                first.getMessage());
                HubError kind = first instanceof HubException he ? he.kind() : HubError.Io;
                HubException error = new HubException(kind, message, first);
                failures.stream().skip(1).forEach(error::addSuppressed);
                throw error;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(HubError.Io, "interrupted while downloading " + repo, e);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The snapshot folder the cache already has for {@code revision}; checked against {@code
     * trees/<commit>.json} when present (huggingface_hub's {@code IncompleteSnapshotError}).
     */
    private Path cachedSnapshot(
            RepoCacheLayout layout,
            HubRepo repo,
            String revision,
            RepoGlob glob,
            String why,
            HubException cause) {
        String commit = CacheWriter.readRef(layout, revision);
        Path dir = commit == null ? null : layout.snapshotDir(commit);
        if (dir == null || !Files.isDirectory(dir)) {
            if (cause != null
                    && cause.kind() != HubError.Network
                    && cause.kind() != HubError.ServerError) {
                // The hub answered (repo not found, gated, unauthorized): with nothing cached to
                // fall back on, its answer is the error, as snapshot_download re-raises it.
                throw cause;
            }
            String missing =
                    commit == null
                            ? (RepoCacheLayout.isCommit(revision) ? "no snapshot " : "no refs/")
                                    + revision
                            : "no folder snapshots/" + commit;
            String text =
                    String.format(
                            Locale.ROOT,
                            "%s and the cache %s has %s of %s%s. Download it once with network"
                                    + " access.",
                            why,
                            layout.repoDir(),
                            missing,
                            repo,
                            cause == null ? "" : " (" + cause.getMessage() + ")");
            throw new HubException(HubError.OfflineMiss, text, cause);
        }
        List<RepoFile> recorded = RepoListing.readTreeCache(layout, commit);
        if (recorded != null) {
            List<String> missing =
                    recorded.stream()
                            .map(RepoFile::path)
                            .filter(glob::accepts)
                            .filter(p -> !Files.exists(layout.snapshotFile(commit, p)))
                            .toList();
            if (!missing.isEmpty()) {
                throw new HubException(
                        HubError.IncompleteSnapshot,
                        String.format(
                                Locale.ROOT,
                                "the cached snapshot of %s (revision %s, commit %s) is incomplete:"
                                    + " %d file(s) are missing (%s). %s; re-run the download with"
                                    + " network access to complete it.",
                                repo,
                                revision,
                                commit,
                                missing.size(),
                                String.join(", ", missing.subList(0, Math.min(3, missing.size()))),
                                why));
            }
        }
        return dir;
    }
}
