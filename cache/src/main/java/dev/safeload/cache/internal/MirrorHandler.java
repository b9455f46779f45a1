package dev.safeload.cache.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

import dev.safeload.cache.RepoCacheLayout;
import dev.safeload.cache.RepoType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The HTTP side of the mirror server: the subset of the hub's API that huggingface_hub and our own
 * resolver use (docs/hub.md §7.4), answered from a cache.
 *
 * <ul>
 *   <li>{@code HEAD|GET /[datasets/|spaces/]{repo}/resolve/{rev}/{path}}: the file, with {@code
 *       X-Repo-Commit}, {@code ETag}, {@code X-Linked-Etag}/{@code X-Linked-Size} for LFS blobs,
 *       {@code Accept-Ranges}, and 206/{@code Content-Range} for a {@code Range}.
 *   <li>{@code GET /api/{type}s/{repo}[/revision/{rev}]}: {@code id}, {@code sha}, {@code
 *       siblings}.
 *   <li>{@code GET /api/{type}s/{repo}/tree/{rev}[/{path}]?recursive=}: entries, paged by {@code
 *       Link}.
 *   <li>{@code POST /api/{type}s/{repo}/paths-info/{rev}}: entries for the paths asked.
 * </ul>
 *
 * Misses are 404s with {@code X-Error-Code} {@code RepoNotFound}, {@code RevisionNotFound} or
 * {@code EntryNotFound} (the last with {@code X-Repo-Commit}, so clients record {@code .no_exist});
 * a bare 404 would read as "check your connection" to huggingface_hub (docs/hub.md §2.8).
 */
public final class MirrorHandler implements HttpHandler {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int COPY_BUFFER = 128 << 10;
    private static final List<String> TYPE_PREFIXES = List.of("models", "datasets", "spaces");

    private final Path cacheRoot;
    private final MirrorUpstream upstream;
    private final int pageSize;

    /**
     * @param cacheRoot the cache, absolute and with links resolved
     * @param upstream where misses are pulled from, or {@link MirrorUpstream#NONE}
     * @param pageSize tree entries per page before a {@code Link: rel="next"}
     */
    public MirrorHandler(Path cacheRoot, MirrorUpstream upstream, int pageSize) {
        this.cacheRoot = cacheRoot;
        this.upstream = upstream;
        this.pageSize = pageSize;
    }

    /** A request that cannot be answered normally; becomes an error response. */
    private static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;
        final String code;
        final String commit;

        Refusal(int status, String code, String message, String commit) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
            this.commit = commit;
        }
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            try {
                List<String> segments = segments(exchange.getRequestURI().getRawPath());
                if (!segments.isEmpty() && segments.getFirst().equals("api")) {
                    api(exchange, segments.subList(1, segments.size()));
                } else {
                    resolve(exchange, segments);
                }
            } catch (Refusal r) {
                refuse(exchange, r);
            } catch (IOException e) {
                if (exchange.getResponseCode() != -1) {
                    throw e; // Headers are out: the client sees a short body and retries.
                }
                // The cache could not be read (permissions, a file vanishing): say so, not a bare
                // reset.
                refuse(exchange, new Refusal(500, null, "cannot read the cache: " + e, null));
            }
        } catch (IOException e) {
            // The client went away mid-response; nothing more to tell it.
        }
    }

    // ---- /{repo}/resolve/{rev}/{path}

    private void resolve(HttpExchange exchange, List<String> segments) throws IOException, Refusal {
        String method = exchange.getRequestMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            throw new Refusal(405, null, "only GET and HEAD are served on /resolve/", null);
        }
        RepoType type = RepoType.MODEL;
        int start = 0;
        if (!segments.isEmpty() && TYPE_PREFIXES.contains(segments.getFirst())) {
            type = RepoType.parse(segments.getFirst());
            start = 1;
        }
        int keyword = -1;
        for (int i = start + 1; i <= start + 2 && i < segments.size(); i++) {
            if (segments.get(i).equals("resolve")) {
                keyword = i;
                break;
            }
        }
        if (keyword < 0 || segments.size() < keyword + 3) {
            throw new Refusal(
                    404,
                    null,
                    "not a hub route: expected"
                            + " /[datasets/|spaces/]{repo}/resolve/{revision}/{path}",
                    null);
        }
        String repoId = repoId(segments.subList(start, keyword));
        String revision = revision(segments.get(keyword + 1));
        String path = safePath(segments.subList(keyword + 2, segments.size()));
        SnapshotView view = view(type, repoId);
        String commit = commit(view, type, repoId, revision, path);
        Optional<SnapshotView.Entry> entry = view.file(commit, path);
        if (entry.isEmpty() && upstream.enabled()) {
            upstream.pull(type, repoId, commit, path);
            entry = view.file(commit, path);
        }
        if (entry.isEmpty()) {
            throw new Refusal(
                    404,
                    "EntryNotFound",
                    String.format(
                            Locale.ROOT,
                            "%s does not exist in %s at commit %s in this cache",
                            path,
                            repoId,
                            commit),
                    commit);
        }
        sendFile(exchange, entry.get(), commit, method.equals("HEAD"));
    }

    private void sendFile(
            HttpExchange exchange, SnapshotView.Entry entry, String commit, boolean head)
            throws IOException {
        Headers headers = exchange.getResponseHeaders();
        headers.set("X-Repo-Commit", commit);
        headers.set("ETag", "\"" + entry.etag() + "\"");
        if (entry.lfs()) {
            headers.set("X-Linked-Etag", "\"" + entry.etag() + "\"");
            headers.set("X-Linked-Size", Long.toString(entry.size()));
        }
        headers.set("Accept-Ranges", "bytes");
        headers.set("Content-Type", "application/octet-stream");
        long size = entry.size();
        ByteRange range = ByteRange.parse(exchange.getRequestHeaders().getFirst("Range"), size);
        if (range == ByteRange.UNSATISFIABLE) {
            headers.set("Content-Range", "bytes */" + size);
            sendEmpty(exchange, 416, head);
            return;
        }
        long offset = range == null ? 0 : range.start();
        long length = range == null ? size : range.length();
        int status = range == null ? 200 : 206;
        if (range != null) {
            headers.set(
                    "Content-Range",
                    "bytes " + range.start() + "-" + range.endInclusive() + "/" + size);
        }
        if (head) {
            // com.sun.net.httpserver sends no body for HEAD and leaves Content-Length to us.
            headers.set("Content-Length", Long.toString(length));
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, length == 0 ? -1 : length);
        // Large reads and writes: FileChannel.transferTo into a stream-backed channel would copy
        // through an 8 KiB buffer, one small socket write each.
        try (FileChannel channel = FileChannel.open(entry.file(), StandardOpenOption.READ);
                OutputStream body = exchange.getResponseBody()) {
            ByteBuffer buffer =
                    ByteBuffer.allocate((int) Math.min(COPY_BUFFER, Math.max(1, length)));
            long sent = 0;
            while (sent < length) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), length - sent));
                int n = channel.read(buffer, offset + sent);
                if (n <= 0) {
                    break; // The file shrank under us; the client sees a short body and retries.
                }
                body.write(buffer.array(), 0, n);
                sent += n;
            }
        }
    }

    private static void sendEmpty(HttpExchange exchange, int status, boolean head)
            throws IOException {
        if (head) {
            exchange.getResponseHeaders().set("Content-Length", "0");
        }
        exchange.sendResponseHeaders(status, -1);
    }

    // ---- /api/{type}s/{repo}[/revision/{rev} | /tree/{rev}[/{path}] | /paths-info/{rev}]

    private void api(HttpExchange exchange, List<String> segments) throws IOException, Refusal {
        if (segments.isEmpty() || !TYPE_PREFIXES.contains(segments.getFirst())) {
            throw new Refusal(
                    404,
                    null,
                    "not a hub route: expected /api/{models|datasets|spaces}/{repo}/...",
                    null);
        }
        RepoType type = RepoType.parse(segments.getFirst());
        List<String> rest = segments.subList(1, segments.size());
        int split = repoLength(type, rest);
        String repoId = repoId(rest.subList(0, split));
        List<String> tail = rest.subList(split, rest.size());
        String action = tail.isEmpty() ? "revision" : tail.getFirst();
        String revision = tail.size() > 1 ? revision(tail.get(1)) : "main";
        SnapshotView view = view(type, repoId);
        switch (action) {
            case "revision" -> {
                if (tail.size() > 2) {
                    revision = revision(String.join("/", tail.subList(1, tail.size())));
                }
                requireMethod(exchange, "GET");
                String commit = commit(view, type, repoId, revision, null);
                sendJson(
                        exchange,
                        repoInfo(type, repoId, view, commit, query(exchange).containsKey("blobs")));
            }
            case "tree" -> {
                requireMethod(exchange, "GET");
                String commit = commit(view, type, repoId, revision, null);
                String prefix = tail.size() > 2 ? safePath(tail.subList(2, tail.size())) : "";
                tree(exchange, view, commit, prefix);
            }
            case "paths-info" -> {
                requireMethod(exchange, "POST");
                String commit = commit(view, type, repoId, revision, null);
                sendJson(exchange, pathsInfo(view, commit, requestedPaths(exchange)));
            }
            default ->
                    throw new Refusal(
                            404, null, "not served by this mirror: /api/.../" + action, null);
        }
    }

    /** 1 or 2 segments of repo id: the 2-segment reading wins when such a repository is cached. */
    private int repoLength(RepoType type, List<String> rest) throws Refusal {
        if (rest.isEmpty()) {
            throw new Refusal(404, "RepoNotFound", "no repository named in the request", null);
        }
        if (rest.size() >= 2
                && repoIdPart(rest.get(0))
                && repoIdPart(rest.get(1))
                && Files.isDirectory(
                        cacheRoot.resolve(
                                RepoCacheLayout.folderName(
                                        type, rest.get(0) + "/" + rest.get(1))))) {
            return 2;
        }
        List<String> keywords = List.of("revision", "tree", "paths-info");
        if (rest.size() >= 2 && !keywords.contains(rest.get(1))) {
            return 2;
        }
        return 1;
    }

    private ObjectNode repoInfo(
            RepoType type, String repoId, SnapshotView view, String commit, boolean blobs)
            throws IOException {
        ObjectNode info = JSON.createObjectNode();
        info.put("_id", commit);
        info.put("id", repoId);
        if (type == RepoType.MODEL) {
            info.put("modelId", repoId);
        }
        info.put("sha", commit);
        info.put("private", false);
        info.put("disabled", false);
        info.put("gated", false);
        Path snapshot =
                cacheRoot
                        .resolve(RepoCacheLayout.folderName(type, repoId))
                        .resolve("snapshots")
                        .resolve(commit);
        info.put(
                "lastModified",
                Instant.ofEpochMilli(Files.getLastModifiedTime(snapshot).toMillis()).toString());
        info.putArray("tags");
        ArrayNode siblings = info.putArray("siblings");
        for (SnapshotView.Entry entry : view.files(commit)) {
            ObjectNode sibling = siblings.addObject();
            sibling.put("rfilename", entry.path());
            if (blobs) {
                sibling.put("size", entry.size());
                sibling.put("blobId", entry.gitOid());
                if (entry.lfs()) {
                    ObjectNode lfs = sibling.putObject("lfs");
                    lfs.put("size", entry.size());
                    lfs.put("sha256", entry.etag());
                    lfs.put("pointerSize", entry.pointerSize());
                }
            }
        }
        return info;
    }

    private void tree(HttpExchange exchange, SnapshotView view, String commit, String prefix)
            throws IOException, Refusal {
        Map<String, String> query = query(exchange);
        boolean recursive =
                List.of("true", "1", "True").contains(query.getOrDefault("recursive", "false"));
        List<SnapshotView.Entry> files = view.files(commit);
        String base = prefix.isEmpty() ? "" : prefix + "/";
        boolean found = prefix.isEmpty();
        TreeSet<String> dirs = new TreeSet<>();
        List<SnapshotView.Entry> listed = new ArrayList<>();
        for (SnapshotView.Entry file : files) {
            if (file.path().equals(prefix)) {
                throw new Refusal(
                        404,
                        "EntryNotFound",
                        prefix + " is a file, not a folder, at commit " + commit,
                        commit);
            }
            if (!file.path().startsWith(base)) {
                continue;
            }
            found = true;
            String relative = file.path().substring(base.length());
            String[] parts = relative.split("/");
            int depth = recursive ? parts.length - 1 : Math.min(1, parts.length - 1);
            for (int i = 1; i <= depth; i++) {
                dirs.add(base + String.join("/", Arrays.asList(parts).subList(0, i)));
            }
            if (recursive || parts.length == 1) {
                listed.add(file);
            }
        }
        if (!found) {
            throw new Refusal(
                    404, "EntryNotFound", prefix + " does not exist at commit " + commit, commit);
        }
        List<ObjectNode> items = new ArrayList<>();
        for (String dir : dirs) {
            items.add(directoryItem(commit, dir));
        }
        for (SnapshotView.Entry file : listed) {
            items.add(fileItem(file));
        }
        items.sort((a, b) -> a.get("path").asText().compareTo(b.get("path").asText()));
        int cursor = parseCursor(query.get("cursor"));
        int end = Math.min(items.size(), cursor + pageSize);
        ArrayNode page = JSON.createArrayNode();
        items.subList(Math.min(cursor, items.size()), end).forEach(page::add);
        if (end < items.size()) {
            String host = exchange.getRequestHeaders().getFirst("Host");
            String next =
                    "http://"
                            + host
                            + exchange.getRequestURI().getRawPath()
                            + "?recursive="
                            + recursive
                            + "&expand=false&cursor="
                            + end;
            exchange.getResponseHeaders().set("Link", "<" + next + ">; rel=\"next\"");
        }
        sendJson(exchange, page);
    }

    private static int parseCursor(String cursor) throws Refusal {
        if (cursor == null) {
            return 0;
        }
        try {
            return Math.max(0, Integer.parseInt(cursor));
        } catch (NumberFormatException e) {
            throw new Refusal(400, null, "bad cursor: " + cursor, null);
        }
    }

    private static ObjectNode directoryItem(String commit, String path) {
        ObjectNode item = JSON.createObjectNode();
        item.put("type", "directory");
        // A stand-in id: the cache keeps no git tree objects, and clients do not use it.
        item.put(
                "oid",
                BlobHashes.gitSha1(
                        ("tree " + commit + " " + path).getBytes(StandardCharsets.UTF_8)));
        item.put("size", 0);
        item.put("path", path);
        return item;
    }

    private static ObjectNode fileItem(SnapshotView.Entry file) {
        ObjectNode item = JSON.createObjectNode();
        item.put("type", "file");
        item.put("oid", file.gitOid());
        item.put("size", file.size());
        item.put("path", file.path());
        if (file.lfs()) {
            ObjectNode lfs = item.putObject("lfs");
            lfs.put("oid", file.etag());
            lfs.put("size", file.size());
            lfs.put("pointerSize", file.pointerSize());
        }
        return item;
    }

    private ArrayNode pathsInfo(SnapshotView view, String commit, List<String> paths)
            throws IOException, Refusal {
        ArrayNode out = JSON.createArrayNode();
        List<SnapshotView.Entry> files = view.files(commit);
        for (String requested : paths) {
            String path = safePath(List.of(requested));
            for (SnapshotView.Entry file : files) {
                if (file.path().equals(path)) {
                    out.add(fileItem(file));
                }
            }
            if (files.stream().anyMatch(f -> f.path().startsWith(path + "/"))) {
                out.add(directoryItem(commit, path));
            }
        }
        return out;
    }

    /**
     * The {@code paths} of a paths-info body: JSON {@code {"paths": [...]}} or a form with repeated
     * {@code paths}.
     */
    private static List<String> requestedPaths(HttpExchange exchange) throws IOException, Refusal {
        byte[] body = exchange.getRequestBody().readNBytes(1 << 20);
        String text = new String(body, StandardCharsets.UTF_8).strip();
        List<String> paths = new ArrayList<>();
        if (text.startsWith("{")) {
            JsonNode node = JSON.readTree(text);
            node.path("paths").forEach(p -> paths.add(p.asText()));
        } else {
            for (String pair : text.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && decodeForm(pair.substring(0, eq)).equals("paths")) {
                    paths.add(decodeForm(pair.substring(eq + 1)));
                }
            }
        }
        return paths;
    }

    // ---- shared

    private SnapshotView view(RepoType type, String repoId) {
        return new SnapshotView(new RepoCacheLayout(cacheRoot, type, repoId), cacheRoot);
    }

    /**
     * The commit for {@code revision}. With an upstream, a branch or tag is asked there first (it
     * may have moved; for {@code path == null}, an API call, the whole snapshot is pulled so that
     * listings are complete), and a commit is pulled when the cache lacks it; the cache answers
     * when the upstream cannot.
     */
    private String commit(
            SnapshotView view, RepoType type, String repoId, String revision, String path)
            throws Refusal {
        Optional<String> commit = view.commit(revision);
        if (upstream.enabled()
                && (commit.isEmpty() || !RepoCacheLayout.isCommit(revision) || path == null)) {
            upstream.pull(type, repoId, revision, path);
            commit = view.commit(revision);
        }
        if (commit.isPresent()) {
            return commit.get();
        }
        if (!view.exists()) {
            throw new Refusal(
                    404,
                    "RepoNotFound",
                    String.format(
                            Locale.ROOT,
                            "Repository %s (%s) is not in this mirror's cache",
                            repoId,
                            type.id()),
                    null);
        }
        throw new Refusal(
                404,
                "RevisionNotFound",
                String.format(
                        Locale.ROOT,
                        "Revision %s of %s is not in this mirror's cache",
                        revision,
                        repoId),
                null);
    }

    private static String repoId(List<String> parts) throws Refusal {
        if (parts.isEmpty()
                || parts.size() > 2
                || !parts.stream().allMatch(MirrorHandler::repoIdPart)) {
            throw new Refusal(
                    404,
                    "RepoNotFound",
                    "not a valid repository id: " + String.join("/", parts),
                    null);
        }
        return String.join("/", parts);
    }

    /**
     * A revision segment, already percent-decoded, so {@code refs%2Fpr%2F1} is {@code refs/pr/1}.
     */
    private static String revision(String decoded) throws Refusal {
        String problem = SafeNames.relativePathProblem(decoded);
        if (problem != null) {
            throw new Refusal(400, null, "refusing revision '" + decoded + "': " + problem, null);
        }
        return decoded;
    }

    /**
     * Decoded path segments joined with {@code /}, refused (400) when the result could leave the
     * snapshot folder ({@code ..}, absolute, backslash, NUL: {@link SafeNames}); a {@code %2F}
     * inside a segment counts as a separator, so it cannot hide a {@code ..}.
     */
    private static String safePath(List<String> segments) throws Refusal {
        String path = String.join("/", segments);
        String problem = SafeNames.relativePathProblem(path);
        if (problem != null) {
            throw new Refusal(400, null, "refusing file path '" + path + "': " + problem, null);
        }
        return path;
    }

    /**
     * An org or repo name: the hub allows letters, digits, {@code -}, {@code _} and {@code .},
     * never {@code --} or {@code ..}.
     */
    private static boolean repoIdPart(String part) {
        return part.matches("[A-Za-z0-9][A-Za-z0-9._-]*")
                && !part.contains("--")
                && !part.contains("..");
    }

    private static void requireMethod(HttpExchange exchange, String method) throws Refusal {
        if (!exchange.getRequestMethod().equals(method)) {
            throw new Refusal(405, null, "use " + method + " here", null);
        }
    }

    private static void sendJson(HttpExchange exchange, JsonNode node) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(node);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.getResponseHeaders().set("Content-Length", Integer.toString(bytes.length));
            exchange.sendResponseHeaders(200, -1);
            return;
        }
        exchange.sendResponseHeaders(200, bytes.length);
        try (OutputStream body = exchange.getResponseBody()) {
            body.write(bytes);
        }
    }

    private static void refuse(HttpExchange exchange, Refusal refusal) throws IOException {
        Headers headers = exchange.getResponseHeaders();
        if (refusal.code != null) {
            headers.set("X-Error-Code", refusal.code);
        }
        // Header values must be visible ASCII; a hostile path may hold anything.
        headers.set("X-Error-Message", refusal.getMessage().replaceAll("[^\\x20-\\x7e]", "?"));
        if (refusal.commit != null) {
            headers.set("X-Repo-Commit", refusal.commit);
        }
        ObjectNode error = JSON.createObjectNode();
        error.put("error", refusal.getMessage());
        byte[] bytes = JSON.writeValueAsBytes(error);
        headers.set("Content-Type", "application/json");
        if (exchange.getRequestMethod().equals("HEAD")) {
            headers.set("Content-Length", Integer.toString(bytes.length));
            exchange.sendResponseHeaders(refusal.status, -1);
            return;
        }
        exchange.sendResponseHeaders(refusal.status, bytes.length);
        try (OutputStream body = exchange.getResponseBody()) {
            body.write(bytes);
        }
    }

    /**
     * The raw path split on {@code /}, each segment percent-decoded (so {@code %2F} stays inside
     * its segment).
     */
    private static List<String> segments(String rawPath) throws Refusal {
        List<String> out = new ArrayList<>();
        for (String raw : rawPath.split("/")) {
            if (!raw.isEmpty()) {
                out.add(percentDecode(raw, false));
            }
        }
        return out;
    }

    private static Map<String, String> query(HttpExchange exchange) throws Refusal {
        Map<String, String> out = new LinkedHashMap<>();
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw == null) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            out.putIfAbsent(percentDecode(key, true), percentDecode(value, true));
        }
        return out;
    }

    private static String decodeForm(String s) throws Refusal {
        return percentDecode(s, true);
    }

    private static String percentDecode(String s, boolean plusIsSpace) throws Refusal {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new Refusal(400, null, "bad percent-encoding in " + s, null);
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new Refusal(400, null, "bad percent-encoding in " + s, null);
                }
                out.write(hi * 16 + lo);
                i += 2;
            } else if (c == '+' && plusIsSpace) {
                out.write(' ');
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
