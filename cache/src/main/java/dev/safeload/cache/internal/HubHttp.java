package dev.safeload.cache.internal;

import dev.safeload.cache.DownloadListener;
import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;
import dev.safeload.cache.HubRepo;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.ProxyRules;
import dev.safeload.cache.RepoCacheLayout;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The hub protocol over {@code java.net.http}: endpoints tried in order, redirects followed by hand
 * so that the token never leaves the endpoint's origin, retries with backoff, and a stall guard for
 * bodies ({@code HF_HUB_DOWNLOAD_TIMEOUT} is a per-read timeout in huggingface_hub, which {@code
 * HttpClient} does not have).
 */
public final class HubHttp implements AutoCloseable {
    private static final int MAX_REDIRECTS = 20;
    private static final long MAX_API_BODY = 512L << 20;
    private static final Duration PRIMARY_RETRY_AFTER = Duration.ofSeconds(60);
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]*)>\\s*;[^,]*?rel=\"?next\"?");

    private final HubSettings settings;
    private final ProxyRoutes proxies;
    private final HttpClient client;
    private final ScheduledExecutorService watchdog;
    private final ExecutorService transferThreads = Executors.newVirtualThreadPerTaskExecutor();

    /** Origins ({@code scheme://host:port}) that answered a bounded Range with the whole file. */
    private final Set<String> rangeRefusers = ConcurrentHashMap.newKeySet();

    /** Index of the endpoint tried first; moves away from 0 after a failure, back after a while. */
    private volatile int preferred;

    private volatile long preferredSinceNanos;

    public HubHttp(HubSettings settings) {
        this.settings = settings;
        this.proxies = new ProxyRoutes(settings.proxies(), settings.etagTimeout());
        HttpClient.Builder builder =
                HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .connectTimeout(settings.etagTimeout())
                        // Always a selector of our own: the JDK's default one would apply the
                        // http.proxyHost properties instead of the variables huggingface_hub reads.
                        .proxy(proxies);
        if (settings.trustedCertificates() != null) {
            builder.sslContext(TrustedCertificates.sslContext(settings.trustedCertificates()));
        }
        this.client = builder.build();
        this.watchdog =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "safeload-http-stall-guard");
                            t.setDaemon(true);
                            return t;
                        });
    }

    public HubSettings settings() {
        return settings;
    }

    /**
     * Threads for the work of transfers besides the HTTP client's own: ranged connections and the
     * hashing that follows the written bytes. Closed with this client.
     */
    public ExecutorService transferThreads() {
        return transferThreads;
    }

    /** Whether {@code url}'s server was seen answering a bounded Range with the whole body. */
    public boolean refusesRanges(URI url) {
        return rangeRefusers.contains(origin(url));
    }

    /** Remembers that {@code url}'s server ignores Range: its next files use one connection. */
    public void recordRangeRefusal(URI url) {
        rangeRefusers.add(origin(url));
    }

    private static String origin(URI url) {
        return url.getScheme().toLowerCase(Locale.ROOT)
                + "://"
                + (url.getHost() == null ? "" : url.getHost().toLowerCase(Locale.ROOT))
                + ":"
                + port(url);
    }

    /**
     * {@code {endpoint}/{prefix}{repo}/resolve/{quote(revision, safe="")}/{quote(path)}}
     * (docs/hub.md §2.1).
     */
    public static URI resolveUrl(URI endpoint, HubRepo repo, String revision, String path) {
        return URI.create(
                endpoint
                        + "/"
                        + repo.urlPath()
                        + "/resolve/"
                        + encodeAll(revision)
                        + "/"
                        + encodePath(path));
    }

    /**
     * Percent-encodes everything except unreserved characters ({@code refs/pr/1} becomes {@code
     * refs%2Fpr%2F1}).
     */
    public static String encodeAll(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8)
                .replace("+", "%20")
                .replace("%7E", "~");
    }

    /** Percent-encodes each segment, keeping {@code /} (Python's {@code quote(path)}). */
    public static String encodePath(String path) {
        StringBuilder out = new StringBuilder();
        for (String segment : path.split("/", -1)) {
            if (!out.isEmpty()) {
                out.append('/');
            }
            out.append(encodeAll(segment));
        }
        return out.toString();
    }

    // ---------------------------------------------------------------- metadata (HEAD)

    /**
     * HEAD on {@code /resolve/}: relative redirects are followed, an absolute one is not (its
     * headers carry the metadata, docs/hub.md §2.4). {@code rounds} passes over the endpoint list
     * are made, with backoff between them; 1 means no retry.
     */
    public FileMetadata head(
            HubRepo repo, String revision, String path, int rounds, DownloadListener listener) {
        String what = repo + " " + path + " at " + revision;
        return withEndpoints(
                what, rounds, listener, endpoint -> headOn(endpoint, repo, revision, path, what));
    }

    private FileMetadata headOn(
            URI endpoint, HubRepo repo, String revision, String path, String what)
            throws Retryable {
        URI url = resolveUrl(endpoint, repo, revision, path);
        HttpResponse<Void> response = null;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            response =
                    send(
                            "HEAD",
                            url,
                            endpoint,
                            settings.etagTimeout(),
                            0,
                            HttpResponse.BodyHandlers.discarding());
            int status = response.statusCode();
            if (status < 300 || status >= 400) {
                break;
            }
            URI target = rawLocation(response, url);
            if (target.getHost() != null) {
                break; // absolute: a CDN; the 3xx carries the metadata
            }
            url = withPath(url, target);
        }
        int status = response.statusCode();
        HttpHeaders headers = response.headers();
        if (status >= 400) {
            if (HubErrors.retryable(status)) {
                throw new Retryable(
                        endpoint, "HTTP " + status + " from " + url, retryAfter(headers));
            }
            HubException error = HubErrors.forResponse(status, headers, url, what);
            if (error.kind() == HubError.EntryNotFound) {
                throw new MissingEntryException(
                        error,
                        headers.firstValue("X-Repo-Commit")
                                .filter(RepoCacheLayout::isCommit)
                                .orElse(null));
            }
            throw error;
        }
        boolean redirect = status >= 300;
        if (redirect && rawLocation(response, url).getHost() == null) {
            throw new Retryable(
                    endpoint, "more than " + MAX_REDIRECTS + " relative redirects from " + url, 0);
        }
        String commit = headers.firstValue("X-Repo-Commit").orElse(null);
        if (commit == null || !RepoCacheLayout.isCommit(commit)) {
            // huggingface_hub's FileMetadataError: treated like a network failure (a proxy login
            // page, a non-hub server).
            throw new Retryable(
                    endpoint,
                    url
                            + " answered without a valid X-Repo-Commit header"
                            + " (is "
                            + endpoint
                            + " a hub endpoint?)",
                    0);
        }
        URI location = redirect ? location(response, url) : url;
        String etag =
                headers.firstValue("X-Linked-Etag")
                        .or(() -> headers.firstValue("ETag"))
                        .orElse(null);
        OptionalLong size = parseSize(headers.firstValue("X-Linked-Size").orElse(null));
        if (size.isEmpty() && !redirect) {
            size = parseSize(headers.firstValue("Content-Length").orElse(null));
        }
        if ((etag == null || size.isEmpty()) && redirect) {
            // Not in huggingface_hub: a mirror that redirects without X-Linked-* headers still
            // works
            // when the redirect target answers HEAD with ETag and Content-Length.
            HttpResponse<Void> target =
                    followGet(
                            "HEAD",
                            location,
                            endpoint,
                            settings.etagTimeout(),
                            0,
                            HttpResponse.BodyHandlers.discarding());
            if (target.statusCode() < 300) {
                if (etag == null) {
                    etag = target.headers().firstValue("ETag").orElse(null);
                }
                if (size.isEmpty()) {
                    size = parseSize(target.headers().firstValue("Content-Length").orElse(null));
                }
            }
        }
        if (etag == null) {
            throw new Retryable(
                    endpoint,
                    url + " answered without an ETag; the file's identity cannot be checked",
                    0);
        }
        if (size.isEmpty()) {
            throw new Retryable(
                    endpoint, url + " answered without X-Linked-Size or Content-Length", 0);
        }
        String blobName = SafeNames.etag(normalizeEtag(etag), url.toString());
        return new FileMetadata(commit, blobName, size.getAsLong(), location, endpoint);
    }

    /** {@code W/"abc"} and {@code "abc"} both name the blob {@code abc}. */
    static String normalizeEtag(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e;
    }

    private static OptionalLong parseSize(String text) {
        if (text == null) {
            return OptionalLong.empty();
        }
        try {
            long value = Long.parseLong(text.strip());
            return value >= 0 ? OptionalLong.of(value) : OptionalLong.empty();
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    // ---------------------------------------------------------------- API (JSON)

    /** One page of an API answer and the {@code Link: rel="next"} URL, if any. */
    public record Page(byte[] body, URI next, URI endpoint) {}

    /** GET {@code {endpoint}/{pathAndQuery}} with endpoint fallback and retries. */
    public Page api(String pathAndQuery, String what, DownloadListener listener) {
        return withEndpoints(
                what,
                settings.maxRetries() + 1,
                listener,
                endpoint -> page(URI.create(endpoint + "/" + pathAndQuery), endpoint, what));
    }

    /**
     * GET a follow-up page (an absolute URL from a {@code Link} header) with retries on the same
     * endpoint.
     */
    public Page nextPage(URI url, URI endpoint, String what) {
        Retryable last = null;
        for (int attempt = 0; attempt <= settings.maxRetries(); attempt++) {
            if (attempt > 0) {
                backoff(attempt - 1, last.retryAfterSeconds);
            }
            try {
                return page(url, endpoint, what);
            } catch (Retryable r) {
                last = r;
            }
        }
        throw last.toHubException(what);
    }

    private Page page(URI url, URI endpoint, String what) throws Retryable {
        HttpResponse<InputStream> response =
                followGet(
                        "GET",
                        url,
                        endpoint,
                        settings.etagTimeout(),
                        0,
                        HttpResponse.BodyHandlers.ofInputStream());
        int status = response.statusCode();
        try (InputStream in = response.body()) {
            if (status >= 400) {
                if (HubErrors.retryable(status)) {
                    throw new Retryable(
                            endpoint,
                            "HTTP " + status + " from " + url,
                            retryAfter(response.headers()));
                }
                throw HubErrors.forResponse(status, response.headers(), url, what);
            }
            byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, MAX_API_BODY + 1));
            if (body.length > MAX_API_BODY) {
                throw new HubException(
                        HubError.ServerError,
                        "the answer from "
                                + url
                                + " is larger than "
                                + MAX_API_BODY
                                + " bytes; refusing it");
            }
            URI next =
                    response.headers().allValues("Link").stream()
                            .map(NEXT_LINK::matcher)
                            .filter(Matcher::find)
                            .map(m -> url.resolve(m.group(1)))
                            .findFirst()
                            .orElse(null);
            return new Page(body, next, endpoint);
        } catch (IOException e) {
            throw new Retryable(endpoint, "reading " + url + " failed: " + describe(e), 0);
        }
    }

    // ---------------------------------------------------------------- downloads (GET)

    /**
     * GET {@code url} from byte {@code from} on, following every redirect; the token goes only to
     * {@code endpoint}'s origin. {@code handler} sees every answer (3xx ones included) and consumes
     * the body; the call returns when the body is complete. Throws {@link Retryable} on connection
     * failures, including a body that stops midway.
     */
    public <T> HttpResponse<T> download(
            URI url, URI endpoint, long from, HttpResponse.BodyHandler<T> handler)
            throws Retryable {
        return download(url, endpoint, from, -1, handler);
    }

    /**
     * GET of the bytes {@code [from, end)} ({@code Range: bytes=from-(end-1)}); {@code end} -1 asks
     * for everything from {@code from} on, as {@link #download(URI, URI, long,
     * HttpResponse.BodyHandler)}.
     */
    public <T> HttpResponse<T> download(
            URI url, URI endpoint, long from, long end, HttpResponse.BodyHandler<T> handler)
            throws Retryable {
        return followGet("GET", url, endpoint, settings.downloadTimeout(), from, end, handler);
    }

    /**
     * Calls {@code onStall} once if {@link StallGuard#touch()} is not called for {@code
     * HF_HUB_DOWNLOAD_TIMEOUT} (huggingface_hub's per-read timeout, which {@code HttpClient} does
     * not have).
     */
    public StallGuard stallGuard(Runnable onStall) {
        return new StallGuard(settings.downloadTimeout(), onStall);
    }

    /** See {@link #stallGuard(Runnable)}; {@link #close()} when the body is done. */
    public final class StallGuard implements AutoCloseable {
        private final ScheduledFuture<?> check;
        private volatile long lastNanos = System.nanoTime();
        private volatile boolean fired;

        private StallGuard(Duration timeout, Runnable onStall) {
            long period = Math.max(50, timeout.toMillis() / 4);
            this.check =
                    watchdog.scheduleAtFixedRate(
                            () -> {
                                if (!fired && System.nanoTime() - lastNanos > timeout.toNanos()) {
                                    fired = true;
                                    onStall.run();
                                }
                            },
                            period,
                            period,
                            TimeUnit.MILLISECONDS);
        }

        public void touch() {
            lastNanos = System.nanoTime();
        }

        @Override
        public void close() {
            check.cancel(false);
        }
    }

    private <T> HttpResponse<T> followGet(
            String method,
            URI url,
            URI endpoint,
            Duration timeout,
            long from,
            HttpResponse.BodyHandler<T> handler)
            throws Retryable {
        return followGet(method, url, endpoint, timeout, from, -1, handler);
    }

    private <T> HttpResponse<T> followGet(
            String method,
            URI url,
            URI endpoint,
            Duration timeout,
            long from,
            long end,
            HttpResponse.BodyHandler<T> handler)
            throws Retryable {
        URI current = url;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpResponse<T> response = send(method, current, endpoint, timeout, from, end, handler);
            int status = response.statusCode();
            if (status < 300 || status >= 400 || status == 304) {
                return response;
            }
            closeQuietly(response);
            current = location(response, current);
        }
        throw new Retryable(endpoint, "more than " + MAX_REDIRECTS + " redirects from " + url, 0);
    }

    private <T> HttpResponse<T> send(
            String method,
            URI url,
            URI endpoint,
            Duration timeout,
            long from,
            HttpResponse.BodyHandler<T> handler)
            throws Retryable {
        return send(method, url, endpoint, timeout, from, -1, handler);
    }

    private <T> HttpResponse<T> send(
            String method,
            URI url,
            URI endpoint,
            Duration timeout,
            long from,
            long end,
            HttpResponse.BodyHandler<T> handler)
            throws Retryable {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(url)
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .timeout(timeout)
                        .header("User-Agent", settings.userAgent())
                        .header("Accept-Encoding", "identity");
        if (settings.token() != null && sameOrigin(url, endpoint)) {
            // docs/hub.md §2.4: a signed CDN URL must not receive the user's token.
            request.header("Authorization", "Bearer " + settings.token());
        }
        if (end >= 0) {
            request.header("Range", "bytes=" + from + "-" + (end - 1));
        } else if (from > 0) {
            request.header("Range", "bytes=" + from + "-");
        }
        ProxyRules.HttpProxy proxy = proxies.prepare(url, request).orElse(null);
        try {
            HttpResponse<T> response = client.send(request.build(), handler);
            if (response.statusCode() == 407 && proxy != null) {
                closeQuietly(response);
                throw new HubException(
                        HubError.ProxyError,
                        "the proxy "
                                + proxy
                                + " wants credentials it did not get or accept (407 Proxy"
                                + " Authentication Required) for "
                                + url
                                + ". Put them in the proxy URL: http://USER:PASSWORD@host:port"
                                + " (percent-encode special characters).");
            }
            return response;
        } catch (HttpTimeoutException e) {
            throw new Retryable(
                    endpoint,
                    "timed out after " + timeout.toSeconds() + " s waiting for " + url,
                    0);
        } catch (IOException e) {
            if (proxy != null) {
                throw proxyFailure(proxy, method, url, endpoint, e);
            }
            throw new Retryable(endpoint, method + " " + url + " failed: " + describe(e), 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(HubError.Network, "interrupted while waiting for " + url, e);
        }
    }

    /**
     * A request through {@code proxy} failed before an answer: a refused tunnel is the proxy's
     * decision (an error), a proxy that cannot be reached or a gateway failure may pass (a retry).
     */
    private Retryable proxyFailure(
            ProxyRules.HttpProxy proxy, String method, URI url, URI endpoint, IOException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        String relay = proxies.tunnelFailure(proxy);
        if (message.startsWith("Tunnel failed, got: ")) {
            String code = message.substring("Tunnel failed, got: ".length()).strip();
            String detail =
                    relay != null
                            ? relay
                            : "the proxy " + proxy + " refused the tunnel with HTTP " + code;
            if (code.startsWith("5")) {
                return new Retryable(endpoint, method + " " + url + " failed: " + detail, 0);
            }
            throw new HubException(
                    HubError.ProxyError,
                    "cannot reach "
                            + url
                            + ": "
                            + detail
                            + ". Check the proxy's access rules, or add the host to NO_PROXY.");
        }
        return new Retryable(
                endpoint,
                method
                        + " "
                        + url
                        + " through the proxy "
                        + proxy
                        + " failed: "
                        + (relay != null ? relay : describe(e)),
                0);
    }

    private static URI location(HttpResponse<?> response, URI current) {
        return current.resolve(rawLocation(response, current));
    }

    /** The {@code Location} header as sent: relative ones have no host. */
    private static URI rawLocation(HttpResponse<?> response, URI current) {
        String location =
                response.headers()
                        .firstValue("Location")
                        .orElseThrow(
                                () ->
                                        new HubException(
                                                HubError.ServerError,
                                                current
                                                        + " answered "
                                                        + response.statusCode()
                                                        + " without a Location header"));
        try {
            return new URI(location);
        } catch (java.net.URISyntaxException e) {
            throw new HubException(
                    HubError.ServerError,
                    current + " redirected to an invalid URL: " + location,
                    e);
        }
    }

    /**
     * A relative redirect replaces only the path and keeps the original query (huggingface_hub's
     * behaviour).
     */
    private static URI withPath(URI url, URI relative) {
        String query = url.getRawQuery();
        return URI.create(
                url.getScheme()
                        + "://"
                        + url.getRawAuthority()
                        + relative.getRawPath()
                        + (query == null ? "" : "?" + query));
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme())
                && Objects.equals(
                        a.getHost() == null ? null : a.getHost().toLowerCase(Locale.ROOT),
                        b.getHost() == null ? null : b.getHost().toLowerCase(Locale.ROOT))
                && port(a) == port(b);
    }

    private static int port(URI uri) {
        return uri.getPort() != -1
                ? uri.getPort()
                : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    // ---------------------------------------------------------------- endpoint fallback and
    // retries

    /** A call on one endpoint. */
    @FunctionalInterface
    public interface EndpointCall<T> {
        T call(URI endpoint) throws Retryable;
    }

    /**
     * Runs {@code call} on the endpoints in order until one answers; a connection failure, a
     * timeout or a 5xx moves to the next endpoint; after a full pass fails, waits (backoff) and
     * starts over, {@code rounds} passes in all. Authoritative errors (404 with X-Error-Code, 401,
     * 403) are thrown at once: another mirror would say the same.
     */
    public <T> T withEndpoints(
            String what, int rounds, DownloadListener listener, EndpointCall<T> call) {
        List<URI> endpoints = settings.endpoints();
        if (settings.offline()) {
            throw new HubException(
                    HubError.OfflineMiss,
                    "offline mode is enabled (HF_HUB_OFFLINE or --offline),"
                            + " so "
                            + what
                            + " cannot be looked up on "
                            + endpoints.getFirst());
        }
        Retryable last = null;
        StringBuilder failures = new StringBuilder();
        for (int round = 0; round < rounds; round++) {
            if (round > 0) {
                backoff(round - 1, last.retryAfterSeconds);
            }
            int first = firstEndpoint();
            for (int k = 0; k < endpoints.size(); k++) {
                int index = (first + k) % endpoints.size();
                URI endpoint = endpoints.get(index);
                try {
                    T result = call.call(endpoint);
                    if (index != preferred || (index != 0 && failures.length() > 0)) {
                        choose(index, endpoint, failures, listener);
                    }
                    return result;
                } catch (Retryable r) {
                    last = r;
                    failures.append(failures.isEmpty() ? "" : "; ").append(r.getMessage());
                }
            }
        }
        throw last.toHubException(what);
    }

    private int firstEndpoint() {
        int p = preferred;
        if (p != 0 && System.nanoTime() - preferredSinceNanos > PRIMARY_RETRY_AFTER.toNanos()) {
            preferred = 0;
            return 0;
        }
        return p;
    }

    private void choose(int index, URI endpoint, CharSequence failures, DownloadListener listener) {
        preferred = index;
        preferredSinceNanos = System.nanoTime();
        if (index != 0 || failures.length() > 0) {
            listener.endpointChanged(
                    endpoint,
                    "using " + endpoint + (failures.isEmpty() ? "" : " after: " + failures));
        }
    }

    /**
     * Sleeps {@code retryBackoff * 2^attempt}, at most 8 times the base, or the server's
     * Retry-After (at most 60 s).
     */
    public void backoff(int attempt, long retryAfterSeconds) {
        long base = settings.retryBackoff().toMillis();
        long millis = Math.min(base << Math.min(attempt, 3), base * 8);
        if (retryAfterSeconds > 0) {
            millis = Math.max(millis, Math.min(retryAfterSeconds, 60) * 1000);
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(HubError.Network, "interrupted while waiting to retry", e);
        }
    }

    private static long retryAfter(HttpHeaders headers) {
        return headers.firstValue("Retry-After")
                .map(
                        v -> {
                            try {
                                return Long.parseLong(v.strip());
                            } catch (NumberFormatException e) {
                                return 0L;
                            }
                        })
                .orElse(0L);
    }

    static String describe(Throwable e) {
        String message = e.getMessage();
        String name = e.getClass().getSimpleName();
        return message == null || message.isBlank() ? name : name + ": " + message;
    }

    private static void closeQuietly(HttpResponse<?> response) {
        if (response.body() instanceof InputStream in) {
            try {
                in.close();
            } catch (IOException ignored) {
                // the connection is discarded either way
            }
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        transferThreads.shutdownNow();
        client.shutdownNow();
        proxies.close();
    }

    /**
     * A failure worth another endpoint or a retry: connection refused or reset, timeout, 408, 429,
     * 5xx.
     */
    public static final class Retryable extends Exception {
        private static final long serialVersionUID = 1L;
        final transient URI endpoint;
        final long retryAfterSeconds;

        public Retryable(URI endpoint, String message, long retryAfterSeconds) {
            super(message, null, false, false);
            this.endpoint = endpoint;
            this.retryAfterSeconds = retryAfterSeconds;
        }

        public long retryAfterSeconds() {
            return retryAfterSeconds;
        }

        public HubException toHubException(String what) {
            boolean server = getMessage().contains("HTTP ");
            return new HubException(
                    server ? HubError.ServerError : HubError.Network,
                    "cannot get "
                            + what
                            + ": "
                            + getMessage()
                            + ". Check the connection and the endpoint (HF_ENDPOINT, --endpoint).");
        }
    }
}
