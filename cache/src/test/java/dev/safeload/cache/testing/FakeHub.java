package dev.safeload.cache.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import dev.safeload.cache.RepoType;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A hub endpoint on loopback that speaks the protocol huggingface_hub and safeload use (docs/hub.md
 * §2, §3 and §7.4), with faults on demand. Point a client at {@link #endpoint()} ({@code
 * HF_ENDPOINT} for Python).
 *
 * {@snippet :
 * try (FakeHub hub = FakeHub.start()) {
 *     String commit = hub.repo(RepoType.MODEL, "org/name")
 *             .file("config.json", "{}".getBytes(UTF_8))
 *             .lfsFile("model.safetensors", bytes)
 *             .commit("main");
 *     hub.fault(Fault.status("model.safetensors", 500, 2));   // two 500s, then normal answers
 *     // ... download from hub.endpoint() ...
 *     assertTrue(hub.requests().stream().anyMatch(r -> r.header("Range") != null));
 * }
 * }
 *
 * Routes: HEAD/GET {@code /[datasets/|spaces/]{repo}/resolve/{rev}/{path}} (206 for {@code Range:
 * bytes=N-} and {@code bytes=N-M}, unless {@link #ignoreRanges(boolean)}); GET {@code
 * /api/{type}s/{repo}[/revision/{rev}]}; GET {@code /api/{type}s/{repo}/tree/{rev}?recursive=true}
 * paged by {@code Link}; GET {@code /cdn/{sha256}} when this hub is another hub's LFS CDN ({@link
 * #redirectLfsTo(FakeHub)}).
 */
public final class FakeHub implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final java.util.regex.Pattern RANGE =
            java.util.regex.Pattern.compile("bytes=(\\d+)-(\\d*)");

    private final HttpServer server;
    private final ExecutorService executor;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, Content> cdnBlobs = new ConcurrentHashMap<>();
    private final List<Fault> faults = new CopyOnWriteArrayList<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, String> renamed = new ConcurrentHashMap<>();
    private volatile FakeHub lfsCdn;
    private volatile String requiredToken;
    private volatile int treePageSize = 1000;
    private volatile boolean treeRefused;
    private volatile boolean rangesIgnored;
    private volatile long bytesPerSecondPerConnection;

    private FakeHub(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** A hub on 127.0.0.1 at a free port. */
    public static FakeHub start() {
        return start("127.0.0.1");
    }

    /** A hub on {@code address} (for example 127.0.0.2, a second loopback host) at a free port. */
    public static FakeHub start(String address) {
        return start(address, null);
    }

    /**
     * A hub that speaks HTTPS on {@code address} with {@code tls}'s certificate ({@link TestTls}),
     * or plain HTTP when {@code tls} is null.
     */
    public static FakeHub start(String address, TestTls tls) {
        try {
            InetSocketAddress bind = new InetSocketAddress(InetAddress.getByName(address), 0);
            HttpServer server;
            if (tls != null) {
                HttpsServer https = HttpsServer.create(bind, 64);
                https.setHttpsConfigurator(new HttpsConfigurator(tls.serverContext()));
                server = https;
            } else {
                server = HttpServer.create(bind, 64);
            }
            ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
            FakeHub hub = new FakeHub(server, executor);
            server.setExecutor(executor);
            server.createContext("/", hub::handle);
            server.start();
            return hub;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code http://127.0.0.1:PORT} ({@code https://} for a TLS hub), no trailing slash. */
    public URI endpoint() {
        InetSocketAddress a = server.getAddress();
        String scheme = server instanceof HttpsServer ? "https" : "http";
        return URI.create(scheme + "://" + a.getAddress().getHostAddress() + ":" + a.getPort());
    }

    /** The repo (created empty on first use). */
    public Repo repo(RepoType type, String id) {
        return repos.computeIfAbsent(key(type, id), k -> new Repo(type, id));
    }

    /**
     * Requests for {@code oldId} answer a relative 307 to {@code newId}'s URL, as the hub does for
     * a renamed repo.
     */
    public FakeHub rename(RepoType type, String oldId, String newId) {
        renamed.put(urlPrefix(type) + oldId + "/", urlPrefix(type) + newId + "/");
        return this;
    }

    /**
     * LFS files answer HEAD/GET with a 302 to {@code cdn}'s {@code /cdn/<sha256>}, with X-Linked-*
     * headers.
     */
    public FakeHub redirectLfsTo(FakeHub cdn) {
        this.lfsCdn = cdn;
        return this;
    }

    /**
     * Every request must carry {@code Authorization: Bearer <token>}; others get 401 RepoNotFound.
     */
    public FakeHub requireToken(String token) {
        this.requiredToken = token;
        return this;
    }

    /**
     * Tree listings return at most {@code size} entries per page, with a {@code Link: rel="next"}.
     */
    public FakeHub treePageSize(int size) {
        this.treePageSize = size;
        return this;
    }

    /**
     * {@code /tree} answers 400, as a Nexus proxy does; clients must fall back to {@code siblings}.
     */
    public FakeHub refuseTree(boolean refuse) {
        this.treeRefused = refuse;
        return this;
    }

    /**
     * {@code Range} headers are ignored and every body is sent whole with 200, as some proxies and
     * static servers do; a client must notice and not treat the body as the range it asked for.
     */
    public FakeHub ignoreRanges(boolean ignore) {
        this.rangesIgnored = ignore;
        return this;
    }

    /**
     * Each body is sent at most at {@code bytesPerSecond} (0: unlimited), standing in for a CDN
     * that throttles every connection; several connections together get several times that. Bodies
     * go out one per connection at a time, so this is a per-connection cap.
     */
    public FakeHub bandwidthPerConnection(long bytesPerSecond) {
        this.bytesPerSecondPerConnection = bytesPerSecond;
        return this;
    }

    public FakeHub fault(Fault fault) {
        faults.add(fault);
        return this;
    }

    public void clearFaults() {
        faults.clear();
    }

    /** Every request received so far, in order. */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    public List<Request> requests(Predicate<Request> filter) {
        return requests.stream().filter(filter).toList();
    }

    public void clearRequests() {
        requests.clear();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ------------------------------------------------------------------ model

    /** A request as received: method, raw path and query, headers (names lower-cased). */
    public record Request(String method, String path, String query, Map<String, String> headers) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** Bytes of one file, in memory or on disk (for large benchmark files). */
    public sealed interface Content {
        long size();

        InputStream open(long from) throws IOException;

        static Content of(byte[] bytes) {
            return new Bytes(bytes.clone());
        }

        static Content of(Path file) {
            return new OnDisk(file);
        }
    }

    record Bytes(byte[] bytes) implements Content {
        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public InputStream open(long from) {
            return new java.io.ByteArrayInputStream(bytes, (int) from, bytes.length - (int) from);
        }
    }

    record OnDisk(Path file) implements Content {
        @Override
        public long size() {
            try {
                return Files.size(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public InputStream open(long from) throws IOException {
            InputStream in = Files.newInputStream(file);
            in.skipNBytes(from);
            return in;
        }
    }

    /** A file of a commit: git blob id, and for LFS files the sha256. */
    public record FileEntry(
            String path, Content content, boolean lfs, String sha256, String gitSha1) {
        /** What HEAD's etag says: sha256 for LFS, git blob sha1 otherwise. */
        public String etag() {
            return lfs ? sha256 : gitSha1;
        }
    }

    /** One repo: commits and the refs (branches, tags, {@code refs/pr/N}) that name them. */
    public final class Repo {
        private final RepoType type;
        private final String id;
        private final Map<String, Map<String, FileEntry>> commits = new ConcurrentHashMap<>();
        private final Map<String, String> refs = new ConcurrentHashMap<>();
        private final Map<String, FileEntry> staged = new LinkedHashMap<>();
        private volatile String gatedMessage;
        private final AtomicInteger counter = new AtomicInteger();

        Repo(RepoType type, String id) {
            this.type = type;
            this.id = id;
        }

        /** Stages a regular (git) file for the next {@link #commit(String)}. */
        public synchronized Repo file(String path, byte[] bytes) {
            staged.put(path, newEntry(path, Content.of(bytes), false));
            return this;
        }

        /** Stages an LFS file (etag = sha256). */
        public synchronized Repo lfsFile(String path, byte[] bytes) {
            staged.put(path, newEntry(path, Content.of(bytes), true));
            return this;
        }

        /** Stages an LFS file read from disk when served. */
        public synchronized Repo lfsFile(String path, Path file) {
            staged.put(path, newEntry(path, Content.of(file), true));
            return this;
        }

        /** Removes a file from the next commit. */
        public synchronized Repo delete(String path) {
            staged.remove(path);
            return this;
        }

        /**
         * Records a commit of the staged files (the previous commit's files plus changes) and
         * points {@code ref} at it.
         */
        public synchronized String commit(String ref) {
            String sha =
                    sha1Hex(
                            (id + "/" + counter.incrementAndGet() + "/" + staged.keySet())
                                    .getBytes(StandardCharsets.UTF_8));
            commits.put(sha, Map.copyOf(staged));
            if (ref != null) {
                refs.put(ref, sha);
            }
            return sha;
        }

        /** Points {@code ref} at {@code commit}. */
        public Repo ref(String ref, String commit) {
            refs.put(ref, commit);
            return this;
        }

        /** Every request answers 403 with {@code X-Error-Code: GatedRepo}. */
        public Repo gated(String message) {
            this.gatedMessage = message;
            return this;
        }

        public FileEntry entry(String commit, String path) {
            return commits.get(commit).get(path);
        }

        String resolve(String revision) {
            if (commits.containsKey(revision)) {
                return revision;
            }
            return refs.get(revision);
        }
    }

    private FileEntry newEntry(String path, Content content, boolean lfs) {
        try (InputStream in = content.open(0)) {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(("blob " + content.size() + "\0").getBytes(StandardCharsets.UTF_8));
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha256.update(buffer, 0, n);
                sha1.update(buffer, 0, n);
            }
            String sha = HexFormat.of().formatHex(sha256.digest());
            String git = HexFormat.of().formatHex(sha1.digest());
            if (lfs) {
                // For LFS files the tree's oid is the git sha1 of the pointer text
                // (docs/hub.md §7.4).
                String pointer =
                        "version https://git-lfs.github.com/spec/v1\noid sha256:"
                                + sha
                                + "\nsize "
                                + content.size()
                                + "\n";
                git = gitSha1(pointer.getBytes(StandardCharsets.UTF_8));
            }
            return new FileEntry(path, content, lfs, sha, git);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** git's blob id: sha1 of {@code "blob <len>\0" + bytes}. */
    public static String gitSha1(byte[] bytes) {
        byte[] header = ("blob " + bytes.length + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[header.length + bytes.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(bytes, 0, all, header.length, bytes.length);
        return sha1Hex(all);
    }

    public static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha1Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ faults

    /**
     * A fault for requests whose path contains {@code pathPart}, for the next {@code times}
     * matching requests ({@code -1}: forever). Only GET/HEAD bodies of files are affected by cut,
     * slow and corrupt faults.
     */
    public record Fault(
            Kind kind, String pathPart, String method, int value, AtomicInteger remaining) {
        public enum Kind {
            STATUS,
            CUT,
            SLOW,
            CORRUPT,
            STALL
        }

        /** Answer {@code status} (for example 500, 503, 429). */
        public static Fault status(String pathPart, int status, int times) {
            return new Fault(Kind.STATUS, pathPart, null, status, new AtomicInteger(times));
        }

        /** Send the headers and {@code bytes} bytes of the body, then drop the connection. */
        public static Fault cut(String pathPart, int bytes, int times) {
            return new Fault(Kind.CUT, pathPart, "GET", bytes, new AtomicInteger(times));
        }

        /** Send the body at about {@code bytesPerSecond}. */
        public static Fault slow(String pathPart, int bytesPerSecond, int times) {
            return new Fault(Kind.SLOW, pathPart, "GET", bytesPerSecond, new AtomicInteger(times));
        }

        /**
         * Send {@code bytes} bytes of the body, then nothing more for a minute (the client must
         * time out).
         */
        public static Fault stall(String pathPart, int bytes, int times) {
            return new Fault(Kind.STALL, pathPart, "GET", bytes, new AtomicInteger(times));
        }

        /** Flip one byte in the middle of the body (same length). */
        public static Fault corrupt(String pathPart, int times) {
            return new Fault(Kind.CORRUPT, pathPart, "GET", 0, new AtomicInteger(times));
        }

        boolean take(String requestMethod, String path) {
            if (!path.contains(pathPart) || (method != null && !method.equals(requestMethod))) {
                return false;
            }
            int left = remaining.get();
            while (left != 0) {
                if (left < 0 || remaining.compareAndSet(left, left - 1)) {
                    return true;
                }
                left = remaining.get();
            }
            return false;
        }
    }

    private Fault takeFault(String method, String path, Fault.Kind... kinds) {
        for (Fault f : faults) {
            if (List.of(kinds).contains(f.kind()) && f.take(method, path)) {
                return f;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ HTTP

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getRawPath();
            String query = exchange.getRequestURI().getRawQuery();
            Map<String, String> headers = new LinkedHashMap<>();
            exchange.getRequestHeaders()
                    .forEach(
                            (k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(",", v)));
            requests.add(new Request(method, path, query, Map.copyOf(headers)));
            exchange.getRequestBody().readAllBytes();

            Fault status = takeFault(method, path, Fault.Kind.STATUS);
            if (status != null) {
                send(exchange, status.value(), "fault injected\n");
                return;
            }
            if (path.startsWith("/cdn/")) {
                Content content = cdnBlobs.get(path.substring(5));
                if (content == null) {
                    send(exchange, 404, "no such blob\n");
                } else {
                    serveBody(exchange, content, new Headers(), path);
                }
                return;
            }
            for (Map.Entry<String, String> r : renamed.entrySet()) {
                if (path.startsWith("/" + r.getKey())) {
                    exchange.getResponseHeaders()
                            .set(
                                    "Location",
                                    "/" + r.getValue() + path.substring(r.getKey().length() + 1));
                    exchange.sendResponseHeaders(307, -1);
                    return;
                }
            }
            if (requiredToken != null
                    && !("Bearer " + requiredToken).equals(headers.get("authorization"))) {
                exchange.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
                exchange.getResponseHeaders()
                        .set("X-Error-Message", "Invalid username or password.");
                send(exchange, 401, "unauthorized\n");
                return;
            }
            if (path.startsWith("/api/")) {
                api(exchange, path.substring(5), query);
            } else {
                resolve(exchange, path.substring(1), method);
            }
        } catch (IOException | RuntimeException e) {
            // the client dropped the connection, or a cut fault: nothing more to say
        }
    }

    private void api(HttpExchange exchange, String path, String query) throws IOException {
        // {type}s/{repo...}[/revision/{rev}] or {type}s/{repo...}/tree/{rev}[/{path}]
        int slash = path.indexOf('/');
        if (slash < 0) {
            send(exchange, 404, "unknown api\n");
            return;
        }
        RepoType type = RepoType.parse(path.substring(0, slash));
        String rest = path.substring(slash + 1);
        String kind =
                rest.contains("/tree/")
                        ? "tree"
                        : rest.contains("/revision/") ? "revision" : "info";
        int cut = kind.equals("info") ? rest.length() : rest.indexOf("/" + kind + "/");
        String id = rest.substring(0, cut);
        String revision =
                kind.equals("info") ? "main" : decode(rest.substring(cut + kind.length() + 2));
        Repo repo = repos.get(key(type, id));
        String commit = checkRepoAndRevision(exchange, repo, revision);
        if (commit == null) {
            return;
        }
        Map<String, FileEntry> files = repo.commits.get(commit);
        if (kind.equals("tree")) {
            if (treeRefused) {
                send(exchange, 400, "tree listing is not supported by this proxy\n");
                return;
            }
            tree(exchange, type, id, revision, files, query);
            return;
        }
        ObjectNode info = JSON.createObjectNode();
        info.put("id", id);
        info.put("sha", commit);
        info.put("private", false);
        ArrayNode siblings = info.putArray("siblings");
        files.keySet().stream().sorted().forEach(p -> siblings.addObject().put("rfilename", p));
        sendJson(exchange, info, null);
    }

    private void tree(
            HttpExchange exchange,
            RepoType type,
            String id,
            String revision,
            Map<String, FileEntry> files,
            String query)
            throws IOException {
        int start = 0;
        if (query != null) {
            for (String part : query.split("&")) {
                if (part.startsWith("cursor=")) {
                    start = Integer.parseInt(part.substring(7));
                }
            }
        }
        List<FileEntry> sorted =
                files.values().stream()
                        .sorted(java.util.Comparator.comparing(FileEntry::path))
                        .toList();
        ArrayNode page = JSON.createArrayNode();
        int end = Math.min(sorted.size(), start + treePageSize);
        for (FileEntry f : sorted.subList(start, end)) {
            ObjectNode item = page.addObject();
            item.put("type", "file");
            item.put("oid", f.gitSha1());
            item.put("size", f.lfs() ? pointerSize(f) : f.content().size());
            item.put("path", f.path());
            if (f.lfs()) {
                ObjectNode lfs = item.putObject("lfs");
                lfs.put("oid", f.sha256());
                lfs.put("size", f.content().size());
                lfs.put("pointerSize", pointerSize(f));
            }
        }
        String next = null;
        if (end < sorted.size()) {
            next =
                    "<"
                            + endpoint()
                            + "/api/"
                            + type.id()
                            + "s/"
                            + id
                            + "/tree/"
                            + encode(revision)
                            + "?recursive=true&expand=false&cursor="
                            + end
                            + ">; rel=\"next\"";
        }
        sendJson(exchange, page, next);
    }

    /**
     * Answers the hub's error for a missing or gated repo or an unknown revision; else returns the
     * commit.
     */
    private static String checkRepoAndRevision(HttpExchange exchange, Repo repo, String revision)
            throws IOException {
        if (repo == null) {
            errorCode(exchange, 404, "RepoNotFound", null, "Repository not found");
            return null;
        }
        if (repo.gatedMessage != null) {
            errorCode(exchange, 403, "GatedRepo", null, repo.gatedMessage);
            return null;
        }
        String commit = repo.resolve(revision);
        if (commit == null) {
            errorCode(exchange, 404, "RevisionNotFound", null, "Invalid rev id: " + revision);
        }
        return commit;
    }

    private static long pointerSize(FileEntry f) {
        return ("version https://git-lfs.github.com/spec/v1\noid sha256:"
                        + f.sha256()
                        + "\nsize "
                        + f.content().size()
                        + "\n")
                .length();
    }

    private void resolve(HttpExchange exchange, String path, String method) throws IOException {
        int at = path.indexOf("/resolve/");
        if (at < 0) {
            send(exchange, 404, "unknown route\n");
            return;
        }
        String prefixed = path.substring(0, at);
        RepoType type = RepoType.MODEL;
        String id = prefixed;
        for (RepoType t : RepoType.values()) {
            if (t != RepoType.MODEL && prefixed.startsWith(urlPrefix(t))) {
                type = t;
                id = prefixed.substring(urlPrefix(t).length());
            }
        }
        String rest = path.substring(at + "/resolve/".length());
        int slash = rest.indexOf('/');
        String revision = decode(rest.substring(0, Math.max(0, slash)));
        String file = decode(rest.substring(slash + 1));
        Repo repo = repos.get(key(type, id));
        String commit = checkRepoAndRevision(exchange, repo, revision);
        if (commit == null) {
            return;
        }
        FileEntry entry = repo.commits.get(commit).get(file);
        if (entry == null) {
            errorCode(
                    exchange,
                    404,
                    "EntryNotFound",
                    commit,
                    file + " does not exist on \"" + revision + "\"");
            return;
        }
        Headers h = exchange.getResponseHeaders();
        h.set("X-Repo-Commit", commit);
        h.set("ETag", "\"" + entry.etag() + "\"");
        h.set("Accept-Ranges", "bytes");
        FakeHub cdn = lfsCdn;
        if (entry.lfs()) {
            h.set("X-Linked-Etag", "\"" + entry.sha256() + "\"");
            h.set("X-Linked-Size", Long.toString(entry.content().size()));
            if (cdn != null) {
                cdn.cdnBlobs.put(entry.sha256(), entry.content());
                h.set("Location", cdn.endpoint() + "/cdn/" + entry.sha256());
                exchange.sendResponseHeaders(302, -1);
                return;
            }
        }
        serveBody(exchange, entry.content(), h, path);
    }

    private void serveBody(HttpExchange exchange, Content content, Headers h, String path)
            throws IOException {
        String method = exchange.getRequestMethod();
        exchange.getResponseHeaders().putAll(h);
        long size = content.size();
        if (method.equals("HEAD")) {
            exchange.getResponseHeaders().set("Content-Length", Long.toString(size));
            exchange.sendResponseHeaders(200, -1);
            return;
        }
        long from = 0;
        long last = size - 1;
        String range = rangesIgnored ? null : exchange.getRequestHeaders().getFirst("Range");
        int status = 200;
        java.util.regex.Matcher m = range == null ? null : RANGE.matcher(range.strip());
        if (m != null && m.matches()) {
            from = Long.parseLong(m.group(1));
            if (m.group(2) != null && !m.group(2).isEmpty()) {
                last = Math.min(last, Long.parseLong(m.group(2)));
            }
            if ((from >= size && size > 0) || last < from) {
                exchange.getResponseHeaders().set("Content-Range", "bytes */" + size);
                send(exchange, 416, "");
                return;
            }
            status = 206;
            exchange.getResponseHeaders()
                    .set("Content-Range", "bytes " + from + "-" + last + "/" + size);
        }
        Fault cut = takeFault(method, path, Fault.Kind.CUT, Fault.Kind.STALL);
        Fault slow = takeFault(method, path, Fault.Kind.SLOW);
        Fault corrupt = takeFault(method, path, Fault.Kind.CORRUPT);
        long length = last + 1 - from;
        exchange.sendResponseHeaders(status, length == 0 ? -1 : length);
        if (length == 0) {
            return;
        }
        long limit = cut != null ? Math.min(length, cut.value()) : length;
        long corruptAt = corrupt != null ? size / 2 - from : -1;
        OutputStream out = exchange.getResponseBody();
        long cap = bytesPerSecondPerConnection;
        long startNanos = System.nanoTime();
        try (InputStream in = content.open(from)) {
            int bufferSize =
                    slow != null
                            ? Math.max(1, slow.value() / 20)
                            : cap > 0 ? (int) Math.clamp(cap / 50, 4096, 1 << 20) : 1 << 20;
            byte[] buffer = new byte[bufferSize];
            long sent = 0;
            while (sent < limit) {
                if (cap > 0) {
                    // Ahead of the cap: wait until the bytes sent so far are due.
                    long due = startNanos + sent * 1_000_000_000L / cap;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        out.flush();
                        sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, limit - sent));
                if (n < 0) {
                    break;
                }
                if (corruptAt >= sent && corruptAt < sent + n) {
                    buffer[(int) (corruptAt - sent)] ^= 0x5a;
                }
                out.write(buffer, 0, n);
                sent += n;
                if (slow != null) {
                    out.flush();
                    sleep(50);
                }
            }
        }
        if (cut != null && cut.kind() == Fault.Kind.STALL) {
            out.flush();
            sleep(60_000);
        }
        if (cut != null) {
            out.flush();
            throw new IOException("cut fault: closing the connection after " + limit + " bytes");
        }
        out.close();
    }

    private static void sleep(long millis) {
        sleep(millis, 0);
    }

    private static void sleep(long millis, int nanos) {
        try {
            Thread.sleep(millis, nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void errorCode(
            HttpExchange exchange, int status, String code, String commit, String message)
            throws IOException {
        exchange.getResponseHeaders().set("X-Error-Code", code);
        exchange.getResponseHeaders().set("X-Error-Message", message);
        if (commit != null) {
            exchange.getResponseHeaders().set("X-Repo-Commit", commit);
        }
        send(exchange, status, "{\"error\":\"" + message.replace("\"", "'") + "\"}");
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
    }

    private static void sendJson(HttpExchange exchange, Object json, String link)
            throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        if (link != null) {
            exchange.getResponseHeaders().set("Link", link);
        }
        send(exchange, 200, JSON.writeValueAsString(json));
    }

    private static String key(RepoType type, String id) {
        return type.id() + ":" + id;
    }

    private static String urlPrefix(RepoType type) {
        return type == RepoType.MODEL ? "" : type.id() + "s/";
    }

    private static String decode(String text) {
        return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String encode(String text) {
        return java.net.URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
