package dev.safeload.cache.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.safeload.cache.DownloadListener;
import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;
import dev.safeload.cache.HubRepo;
import dev.safeload.cache.RepoCacheLayout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which commit a revision is and which files it holds (docs/hub.md §3): {@code GET
 * /api/{type}s/{repo}/revision/{rev}} for the commit and {@code siblings}, {@code GET
 * /api/{type}s/{repo}/tree/{commit}?recursive=true&expand=false} for the files with sizes and blob
 * ids, page after page through {@code Link: <...>; rel="next"}; a proxy that refuses {@code /tree}
 * (Nexus answers 400) falls back to {@code siblings}. Listings are kept in huggingface_hub's {@code
 * trees/<commit>.json} (format_version 1), valid forever since a commit never changes.
 */
public final class RepoListing {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The answer of the revision API: the commit and the file names. */
    public record RevisionInfo(String sha, List<String> siblings) {}

    private final HubHttp http;

    public RepoListing(HubHttp http) {
        this.http = http;
    }

    public RevisionInfo revision(HubRepo repo, String revision, DownloadListener listener) {
        String what = repo + " at revision " + revision;
        HubHttp.Page page =
                http.api(
                        "api/"
                                + repo.type().id()
                                + "s/"
                                + repo.id()
                                + "/revision/"
                                + HubHttp.encodeAll(revision),
                        what,
                        listener);
        JsonNode root = parse(page.body(), what);
        String sha = root.path("sha").asText(null);
        if (sha == null || !RepoCacheLayout.isCommit(sha)) {
            throw new HubException(
                    HubError.ServerError,
                    "the revision API for "
                            + what
                            + " answered without a valid 'sha' (a 40 hex digit commit)");
        }
        List<String> siblings = new ArrayList<>();
        for (JsonNode sibling : root.path("siblings")) {
            String name = sibling.path("rfilename").asText(null);
            if (name != null) {
                siblings.add(SafeNames.filePath(name));
            }
        }
        return new RevisionInfo(sha, siblings);
    }

    /** The files of {@code commit}, through {@code /tree}, else the revision's siblings. */
    public List<RepoFile> files(
            HubRepo repo, String commit, RevisionInfo known, DownloadListener listener) {
        String what = repo + " file list at " + commit;
        try {
            return tree(repo, commit, what, listener);
        } catch (HubException e) {
            if (e.kind() != HubError.ServerError) {
                throw e;
            }
            RevisionInfo info = known != null ? known : revision(repo, commit, listener);
            if (info.siblings().isEmpty()) {
                throw e;
            }
            return info.siblings().stream().map(RepoFile::nameOnly).toList();
        }
    }

    private List<RepoFile> tree(
            HubRepo repo, String commit, String what, DownloadListener listener) {
        List<RepoFile> files = new ArrayList<>();
        HubHttp.Page page =
                http.api(
                        "api/"
                                + repo.type().id()
                                + "s/"
                                + repo.id()
                                + "/tree/"
                                + commit
                                + "?recursive=true&expand=false",
                        what,
                        listener);
        int pages = 0;
        while (true) {
            JsonNode items = parse(page.body(), what);
            if (!items.isArray()) {
                throw new HubException(
                        HubError.ServerError,
                        "the tree API for " + what + " did not answer a JSON array");
            }
            for (JsonNode item : items) {
                if ("file".equals(item.path("type").asText())) {
                    files.add(fromTree(item));
                }
            }
            if (page.next() == null) {
                return files;
            }
            if (++pages > 100_000) {
                throw new HubException(
                        HubError.ServerError, "the tree API for " + what + " never stops paging");
            }
            page = http.nextPage(page.next(), page.endpoint(), what);
        }
    }

    private static RepoFile fromTree(JsonNode item) {
        String path = SafeNames.filePath(item.path("path").asText(null));
        JsonNode lfs = item.path("lfs");
        String sha256 = lfs.isObject() ? lfs.path("oid").asText(null) : null;
        return new RepoFile(
                path,
                item.path("size").asLong(-1),
                item.path("oid").asText(null),
                sha256,
                lfs.isObject() ? lfs.path("size").asLong(-1) : -1,
                item.path("xetHash").asText(null));
    }

    /**
     * The listing kept in {@code trees/<commit>.json}, or {@code null} when absent or unreadable.
     */
    public static List<RepoFile> readTreeCache(RepoCacheLayout layout, String commit) {
        Path file = treeCacheFile(layout, commit);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonNode root = JSON.readTree(file.toFile());
            if (root.path("format_version").asInt() != 1) {
                return null;
            }
            List<RepoFile> files = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : root.path("files").properties()) {
                JsonNode f = e.getValue();
                files.add(
                        new RepoFile(
                                SafeNames.filePath(e.getKey()),
                                f.path("size").asLong(-1),
                                f.path("blob_id").asText(null),
                                f.path("lfs_sha256").asText(null),
                                f.path("lfs_size").asLong(-1),
                                f.path("xet_hash").asText(null)));
            }
            return files;
        } catch (IOException | HubException e) {
            return null;
        }
    }

    /**
     * Writes {@code trees/<commit>.json} as huggingface_hub ≥ 1.22 does; failures are ignored (it
     * is a cache).
     */
    public static void writeTreeCache(RepoCacheLayout layout, String commit, List<RepoFile> files) {
        if (files.stream().anyMatch(f -> !f.hasMetadata())) {
            return;
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("format_version", 1);
        ObjectNode entries = root.putObject("files");
        Map<String, RepoFile> sorted = new TreeMap<>();
        files.forEach(f -> sorted.put(f.path(), f));
        sorted.forEach(
                (path, f) -> {
                    ObjectNode entry = entries.putObject(path);
                    entry.put("size", f.size());
                    entry.put("blob_id", f.blobId());
                    if (f.lfsSha256() != null) {
                        entry.put("lfs_sha256", f.lfsSha256());
                        entry.put("lfs_size", f.lfsSize());
                    }
                    if (f.xetHash() != null) {
                        entry.put("xet_hash", f.xetHash());
                    }
                });
        Path file = treeCacheFile(layout, commit);
        try {
            Files.createDirectories(file.getParent());
            CacheWriter.atomicWrite(
                    file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } catch (IOException e) {
            System.getLogger("dev.safeload.cache")
                    .log(System.Logger.Level.DEBUG, "cannot write " + file + ": " + e);
        }
    }

    static Path treeCacheFile(RepoCacheLayout layout, String commit) {
        return layout.repoDir().resolve("trees").resolve(commit + ".json");
    }

    private static JsonNode parse(byte[] body, String what) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new HubException(
                    HubError.ServerError,
                    "the answer for " + what + " is not valid JSON: " + e.getMessage(),
                    e);
        }
    }
}
