package dev.safeload.cache.internal;

import dev.safeload.cache.HubClient;
import dev.safeload.cache.HubException;
import dev.safeload.cache.HubRepo;
import dev.safeload.cache.RepoType;
import dev.safeload.cache.SnapshotOptions;

import java.util.function.Consumer;

/**
 * Pull-through from another endpoint with our own downloader, into the cache the server serves: the
 * downloader's locks, resume and verification apply, so concurrent requests for one missing file
 * download it once and nothing unverified becomes visible to clients.
 */
public final class HubClientUpstream implements MirrorUpstream, AutoCloseable {
    private final HubClient client;
    private final Consumer<String> log;

    /**
     * @param client downloads into the served cache; @param log receives one line per failed pull
     */
    public HubClientUpstream(HubClient client, Consumer<String> log) {
        this.client = client;
        this.log = log;
    }

    @Override
    public boolean enabled() {
        return true;
    }

    @Override
    public void pull(RepoType type, String repoId, String revision, String path) {
        HubRepo repo = new HubRepo(type, repoId);
        try {
            if (path == null) {
                client.snapshotDownload(repo, revision, SnapshotOptions.defaults());
            } else {
                client.downloadFile(repo, path, revision);
            }
        } catch (HubException e) {
            log.accept(
                    "upstream: "
                            + repo
                            + "@"
                            + revision
                            + (path == null ? "" : " " + path)
                            + ": "
                            + e.kind()
                            + ": "
                            + e.getMessage());
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
