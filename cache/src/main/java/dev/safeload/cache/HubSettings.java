package dev.safeload.cache;

import dev.safeload.cache.internal.EnvironmentSettings;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Resolved configuration of the hub client: where the cache is, which endpoints to ask, which token
 * to send, timeouts, offline mode. An immutable value that holds no resources; a {@link HubClient}
 * made from it owns the connections. The environment is read when settings are built, never later,
 * and nothing here changes a JVM-wide setting.
 *
 * <p>{@link #fromEnvironment()} reads the variables huggingface_hub reads, with its precedence
 * (docs/hub.md §4): {@code HF_HUB_CACHE} &gt; {@code HUGGINGFACE_HUB_CACHE} &gt; {@code
 * $HF_HOME/hub} &gt; the legacy {@code TRANSFORMERS_CACHE} (with a one-time notice) &gt; {@code
 * $XDG_CACHE_HOME/huggingface/hub} &gt; {@code ~/.cache/huggingface/hub}; {@code HF_ENDPOINT} (or
 * {@code SAFELOAD_HF_ENDPOINTS}, a comma-separated ordered list of mirrors tried in turn); {@code
 * HF_HUB_OFFLINE}/{@code TRANSFORMERS_OFFLINE}; {@code HF_TOKEN} &gt; {@code
 * HUGGING_FACE_HUB_TOKEN} &gt; the token file ({@code HF_TOKEN_PATH}, default {@code
 * $HF_HOME/token}); {@code HF_HUB_ETAG_TIMEOUT}, {@code HF_HUB_DOWNLOAD_TIMEOUT} (seconds, 0 =
 * default 10); {@code HF_HUB_DISABLE_SYMLINKS}; the proxy variables {@code HTTPS_PROXY}, {@code
 * HTTP_PROXY}, {@code ALL_PROXY}, {@code NO_PROXY} ({@link ProxyRules}); {@code SSL_CERT_FILE} &gt;
 * {@code SSL_CERT_DIR} for the certificates to trust. Values set through the {@link Builder} win
 * over the environment:
 *
 * {@snippet :
 * HubSettings settings = HubSettings.builder()
 *         .cacheDir(Path.of("/srv/hf-cache"))
 *         .endpoints(List.of(URI.create("http://mirror.lan:8080"), URI.create("https://huggingface.co")))
 *         .build();
 * }
 *
 * @param cacheDir hub cache root (the folder holding {@code models--org--name})
 * @param endpoints endpoints in the order they are tried; never empty
 * @param token bearer token sent to the endpoints (never to other hosts), or {@code null}
 * @param offline answer from the cache only
 * @param etagTimeout timeout of metadata requests (HEAD, API)
 * @param downloadTimeout longest wait for the next bytes of a download
 * @param symlinksDisabled write copies into {@code snapshots/} instead of symlinks
 * @param maxRetries retries of a request after 408, 429, 5xx or a dropped connection
 * @param retryBackoff first retry delay; it doubles up to 8 times this value
 * @param userAgent {@code User-Agent} header
 * @param proxies which proxy each request goes through
 * @param trustedCertificates a PEM bundle or a folder of PEM files whose certificates alone are
 *     trusted for TLS, or {@code null} for the JDK's trust store
 * @param connectionsPerFile connections that fetch one large file together, each a byte range of it
 *     (as {@code hf_transfer} and download accelerators do; it helps where a CDN throttles each
 *     connection); 1 fetches every file over one connection. Servers that answer a range with the
 *     whole file are noticed and get one connection per file from then on
 * @param rangeChunkBytes bytes asked for per ranged request; files with fewer than two chunks left
 *     to fetch use one connection
 */
public record HubSettings(
        Path cacheDir,
        List<URI> endpoints,
        String token,
        boolean offline,
        Duration etagTimeout,
        Duration downloadTimeout,
        boolean symlinksDisabled,
        int maxRetries,
        Duration retryBackoff,
        String userAgent,
        ProxyRules proxies,
        Path trustedCertificates,
        int connectionsPerFile,
        long rangeChunkBytes) {

    /** The hub itself, used when no endpoint is configured. */
    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");

    /** The default of {@link #connectionsPerFile()}. */
    public static final int DEFAULT_CONNECTIONS_PER_FILE = 4;

    /** The default of {@link #rangeChunkBytes()}: 64 MiB. */
    public static final long DEFAULT_RANGE_CHUNK_BYTES = 64L << 20;

    /**
     * Normalizes the endpoints (no trailing {@code /}) and checks the rest.
     *
     * @throws HubException of kind {@link HubError#InvalidSettings} for an endpoint that is not an
     *     http(s) URL
     * @throws IllegalArgumentException for no endpoint or a negative {@code maxRetries}
     */
    public HubSettings {
        Objects.requireNonNull(cacheDir, "cacheDir");
        endpoints = endpoints.stream().map(HubSettings::normalizeEndpoint).toList();
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("at least one endpoint is needed");
        }
        Objects.requireNonNull(etagTimeout, "etagTimeout");
        Objects.requireNonNull(downloadTimeout, "downloadTimeout");
        Objects.requireNonNull(retryBackoff, "retryBackoff");
        Objects.requireNonNull(userAgent, "userAgent");
        Objects.requireNonNull(proxies, "proxies");
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must not be negative");
        }
        if (connectionsPerFile < 1 || connectionsPerFile > 64) {
            throw new HubException(
                    HubError.InvalidSettings,
                    "connections per file must be between 1 and 64, got " + connectionsPerFile);
        }
        if (rangeChunkBytes < 1) {
            throw new IllegalArgumentException("rangeChunkBytes must be positive");
        }
    }

    /**
     * {@return settings from {@code System.getenv()} alone}
     *
     * @throws HubException of kind {@link HubError#InvalidSettings} for a variable that cannot be
     *     used
     */
    public static HubSettings fromEnvironment() {
        return builder().build();
    }

    /** {@return a builder over {@code System.getenv()}: what it sets wins over the environment} */
    public static Builder builder() {
        return new Builder(System.getenv());
    }

    /**
     * A builder over the given environment variables instead of the process's (for tests, and for
     * services that configure clients per tenant).
     *
     * @param environment variable names to values, read as {@code System.getenv()} would be
     * @return the builder
     */
    public static Builder builder(Map<String, String> environment) {
        return new Builder(Map.copyOf(environment));
    }

    /** {@return the token, if one is sent} */
    public Optional<String> tokenValue() {
        return Optional.ofNullable(token);
    }

    /** {@return the settings for a log line; the token is masked and never printed} */
    @Override
    public String toString() {
        return "HubSettings[cacheDir="
                + cacheDir
                + ", endpoints="
                + endpoints
                + ", token="
                + (token == null ? "none" : "***")
                + ", offline="
                + offline
                + ", etagTimeout="
                + etagTimeout
                + ", downloadTimeout="
                + downloadTimeout
                + ", symlinksDisabled="
                + symlinksDisabled
                + ", maxRetries="
                + maxRetries
                + ", retryBackoff="
                + retryBackoff
                + ", proxies="
                + proxies
                + ", trustedCertificates="
                + (trustedCertificates == null ? "default" : trustedCertificates)
                + ", connectionsPerFile="
                + connectionsPerFile
                + ", rangeChunkBytes="
                + rangeChunkBytes
                + "]";
    }

    /**
     * huggingface_hub strips the trailing {@code /} of {@code HF_ENDPOINT}; a path prefix
     * (Artifactory) is kept.
     */
    static URI normalizeEndpoint(URI endpoint) {
        String text = endpoint.toString();
        while (text.endsWith("/")) {
            text = text.substring(0, text.length() - 1);
        }
        URI uri = URI.create(text);
        if (uri.getScheme() == null
                || uri.getHost() == null
                || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
            throw new HubException(
                    HubError.InvalidSettings,
                    "endpoint '"
                            + endpoint
                            + "' is not an http(s) URL such as https://huggingface.co");
        }
        return uri;
    }

    /** Collects overrides; {@link #build()} fills everything not set from the environment. */
    public static final class Builder {
        private final Map<String, String> environment;
        private Path cacheDir;
        private Path hfHome;
        private List<URI> endpoints;
        private String token;
        private boolean tokenSet;
        private Boolean offline;
        private Duration etagTimeout;
        private Duration downloadTimeout;
        private Boolean symlinksDisabled;
        private int maxRetries = 5;
        private Duration retryBackoff = Duration.ofSeconds(1);
        private String userAgent = "safeload/0.1; java/" + Runtime.version().feature();
        private ProxyRules proxies;
        private Path trustedCertificates;
        private boolean trustedCertificatesSet;
        private Integer connectionsPerFile;
        private long rangeChunkBytes = DEFAULT_RANGE_CHUNK_BYTES;

        private Builder(Map<String, String> environment) {
            this.environment = environment;
        }

        /**
         * Sets the hub cache root (default: the environment, docs/hub.md §4).
         *
         * @param dir the folder holding {@code models--org--name}
         * @return this builder
         */
        public Builder cacheDir(Path dir) {
            this.cacheDir = dir;
            return this;
        }

        /**
         * {@code HF_HOME}: the default cache is {@code <home>/hub}, the token file {@code
         * <home>/token}.
         *
         * @param home the folder that replaces {@code HF_HOME}
         * @return this builder
         */
        public Builder hfHome(Path home) {
            this.hfHome = home;
            return this;
        }

        /**
         * Sets one endpoint: the hub or a mirror (default: {@code SAFELOAD_HF_ENDPOINTS}, else
         * {@code HF_ENDPOINT}, else the hub).
         *
         * @param endpoint an http(s) URL, possibly with a path prefix
         * @return this builder
         */
        public Builder endpoint(URI endpoint) {
            return endpoints(List.of(endpoint));
        }

        /**
         * Sets the endpoints, tried in order on connection failure, timeout or 5xx.
         *
         * @param list http(s) URLs, at least one
         * @return this builder
         */
        public Builder endpoints(List<URI> list) {
            this.endpoints = new ArrayList<>(list);
            return this;
        }

        /**
         * Sets the token to send (default: {@code HF_TOKEN}, {@code HUGGING_FACE_HUB_TOKEN}, then
         * the token file).
         *
         * @param value the token; {@code null} or blank sends none (and reads no token file)
         * @return this builder
         */
        public Builder token(String value) {
            this.token = value;
            this.tokenSet = true;
            return this;
        }

        /**
         * Sets offline mode (default: {@code HF_HUB_OFFLINE} or {@code TRANSFORMERS_OFFLINE}).
         *
         * @param value true to answer from the cache only, with no request
         * @return this builder
         */
        public Builder offline(boolean value) {
            this.offline = value;
            return this;
        }

        /**
         * Sets the timeout of metadata requests (default: {@code HF_HUB_ETAG_TIMEOUT}, else 10 s).
         *
         * @param value the timeout of a HEAD or API request, and of connecting
         * @return this builder
         */
        public Builder etagTimeout(Duration value) {
            this.etagTimeout = value;
            return this;
        }

        /**
         * Sets the longest wait for the next bytes of a download (default: {@code
         * HF_HUB_DOWNLOAD_TIMEOUT}, else 10 s).
         *
         * @param value how long a body may stall before the transfer is retried
         * @return this builder
         */
        public Builder downloadTimeout(Duration value) {
            this.downloadTimeout = value;
            return this;
        }

        /**
         * Sets whether snapshots hold copies instead of symlinks (default: {@code
         * HF_HUB_DISABLE_SYMLINKS}; copies are also used where symlinks do not work).
         *
         * @param value true for copies
         * @return this builder
         */
        public Builder symlinksDisabled(boolean value) {
            this.symlinksDisabled = value;
            return this;
        }

        /**
         * Sets how often a request is retried after 408, 429, 5xx or a dropped connection (default
         * 5).
         *
         * @param value retries, 0 for none
         * @return this builder
         */
        public Builder maxRetries(int value) {
            this.maxRetries = value;
            return this;
        }

        /**
         * Sets the first retry delay; it doubles up to 8 times this value (default 1 s).
         *
         * @param value the first delay
         * @return this builder
         */
        public Builder retryBackoff(Duration value) {
            this.retryBackoff = value;
            return this;
        }

        /**
         * Sets the {@code User-Agent} header (default {@code safeload/VERSION; java/FEATURE}).
         *
         * @param value the header's value
         * @return this builder
         */
        public Builder userAgent(String value) {
            this.userAgent = value;
            return this;
        }

        /**
         * Sets the proxy rules (default: from the environment's proxy variables).
         *
         * @param value the rules; {@link ProxyRules#none()} for direct connections only
         * @return this builder
         */
        public Builder proxies(ProxyRules value) {
            this.proxies = value;
            return this;
        }

        /**
         * Sets the certificates to trust for TLS: a PEM bundle or a folder of PEM files; {@code
         * null} for the JDK's trust store (default: {@code SSL_CERT_FILE}, else {@code
         * SSL_CERT_DIR}).
         *
         * @param value the PEM file or folder, or {@code null}
         * @return this builder
         */
        public Builder trustedCertificates(Path value) {
            this.trustedCertificates = value;
            this.trustedCertificatesSet = true;
            return this;
        }

        /**
         * Sets the connections that fetch one large file together (default: {@code
         * SAFELOAD_CONNECTIONS_PER_FILE}, else {@value #DEFAULT_CONNECTIONS_PER_FILE}); 1 turns
         * ranged downloads off.
         *
         * @param value 1 to 64
         * @return this builder
         */
        public Builder connectionsPerFile(int value) {
            this.connectionsPerFile = value;
            return this;
        }

        /**
         * Sets the bytes asked for per ranged request (default 64 MiB).
         *
         * @param value a positive number of bytes
         * @return this builder
         */
        public Builder rangeChunkBytes(long value) {
            this.rangeChunkBytes = value;
            return this;
        }

        /**
         * {@return the settings: what was set here, the environment for the rest}
         *
         * @throws HubException of kind {@link HubError#InvalidSettings} for a value that cannot be
         *     used
         */
        public HubSettings build() {
            EnvironmentSettings env = new EnvironmentSettings(environment);
            Path home = hfHome != null ? hfHome : env.hfHome();
            Path cache = cacheDir != null ? cacheDir : env.hubCache(hfHome);
            String chosenToken = tokenSet ? EnvironmentSettings.cleanToken(token) : env.token(home);
            return new HubSettings(
                    cache,
                    endpoints != null ? endpoints : env.endpoints(),
                    chosenToken,
                    offline != null ? offline : env.offline(),
                    etagTimeout != null ? etagTimeout : env.seconds("HF_HUB_ETAG_TIMEOUT"),
                    downloadTimeout != null
                            ? downloadTimeout
                            : env.seconds("HF_HUB_DOWNLOAD_TIMEOUT"),
                    symlinksDisabled != null
                            ? symlinksDisabled
                            : env.flag("HF_HUB_DISABLE_SYMLINKS"),
                    maxRetries,
                    retryBackoff,
                    userAgent,
                    proxies != null ? proxies : ProxyRules.fromEnvironment(environment),
                    trustedCertificatesSet ? trustedCertificates : env.trustedCertificates(),
                    connectionsPerFile != null
                            ? connectionsPerFile
                            : env.count(
                                    "SAFELOAD_CONNECTIONS_PER_FILE", DEFAULT_CONNECTIONS_PER_FILE),
                    rangeChunkBytes);
        }
    }
}
