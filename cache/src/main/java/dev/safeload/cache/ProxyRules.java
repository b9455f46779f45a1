package dev.safeload.cache;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which HTTP proxy a request goes through, decided from {@code HTTPS_PROXY}, {@code HTTP_PROXY},
 * {@code ALL_PROXY} and {@code NO_PROXY} (each in upper or lower case) the way huggingface_hub's
 * HTTP client reads them (docs/hub.md §2.10), so that safeload and Python take the same route.
 *
 * <p>Every HTTP client of safeload asks this class: the hub downloader and {@code serve --upstream}
 * through {@link HubSettings#proxies()}, and other modules (the object store) through {@link
 * #fromEnvironment()} and {@link #proxyFor(URI)}.
 *
 * {@snippet :
 * ProxyRules rules = ProxyRules.fromEnvironment();
 * rules.proxyFor(URI.create("https://huggingface.co/api/models"))
 *         .ifPresent(proxy -> System.out.println("through " + proxy)); // credentials masked
 * }
 *
 * <p>The rules, in short: the target's scheme picks {@code https_proxy} or {@code http_proxy}, else
 * {@code all_proxy}; the lower-case variable wins over the upper-case one, and a lower-case one
 * that is set but empty unsets it. {@code NO_PROXY} is a comma-separated list of host names ({@code
 * example.com} matches it and its subdomains, {@code .example.com} only the subdomains), {@code
 * localhost}, IP addresses, CIDR blocks ({@code 10.0.0.0/8}, {@code fd00::/8}), any of them with
 * {@code :port}, {@code scheme://host} entries, and {@code *} for no proxy at all. Host names are
 * compared as written, never resolved.
 *
 * <p>Immutable and thread-safe. Credentials in a proxy URL ({@code http://user:pass@proxy:3128},
 * percent-encoded) are kept for the proxy and never appear in {@link #toString()} or in error
 * messages.
 */
public final class ProxyRules {
    private static final ProxyRules NONE = new ProxyRules(null, null, null, List.of(), false, null);
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private final Setting http;
    private final Setting https;
    private final Setting all;
    private final List<Bypass> bypass;
    private final boolean bypassAll;

    /** A bad NO_PROXY entry, reported when a proxy would otherwise be used. */
    private final String invalidBypass;

    /** One proxy variable as set: its name (for messages) and value. */
    private record Setting(String variable, String value) {}

    private ProxyRules(
            Setting http,
            Setting https,
            Setting all,
            List<Bypass> bypass,
            boolean bypassAll,
            String invalidBypass) {
        this.http = http;
        this.https = https;
        this.all = all;
        this.bypass = List.copyOf(bypass);
        this.bypassAll = bypassAll;
        this.invalidBypass = invalidBypass;
    }

    /** {@return rules that send every request direct} */
    public static ProxyRules none() {
        return NONE;
    }

    /** {@return the rules of this process's environment ({@code System.getenv()})} */
    public static ProxyRules fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * The rules the given environment variables describe. Proxy URLs and {@code NO_PROXY} entries
     * are checked when a request would use them ({@link #proxyFor(URI)}), so that a bad {@code
     * ALL_PROXY} does not break a client whose requests all go through {@code HTTPS_PROXY}, and a
     * command that makes no request never fails on them.
     *
     * @param environment variable names and values, as {@code System.getenv()} gives them
     * @return the rules; {@link #none()} when no proxy variable is set
     */
    public static ProxyRules fromEnvironment(Map<String, String> environment) {
        Setting http = variable(environment, "http_proxy");
        if (environment.containsKey("REQUEST_METHOD")
                && http != null
                && http.variable().equals("HTTP_PROXY")) {
            // A CGI script gets HTTP_PROXY from the client's "Proxy:" header (httpoxy,
            // CVE-2016-1000110); like Python's urllib, only the lower-case name counts there.
            http = null;
        }
        Setting https = variable(environment, "https_proxy");
        Setting all = variable(environment, "all_proxy");
        Setting noProxy = variable(environment, "no_proxy");
        List<Bypass> bypass = new ArrayList<>();
        boolean bypassAll = false;
        String invalid = null;
        if (noProxy != null) {
            for (String raw : noProxy.value().split(",")) {
                String entry = raw.strip();
                if (entry.equals("*")) {
                    bypassAll = true;
                } else if (!entry.isEmpty()) {
                    try {
                        bypass.add(Bypass.parse(entry, noProxy.variable()));
                    } catch (HubException e) {
                        invalid = invalid != null ? invalid : e.getMessage();
                    }
                }
            }
        }
        if (http == null && https == null && all == null) {
            return NONE;
        }
        return new ProxyRules(http, https, all, bypass, bypassAll, invalid);
    }

    /**
     * urllib's {@code getproxies_environment}: the lower-case name wins; a lower-case name set to
     * the empty string removes the variable.
     */
    private static Setting variable(Map<String, String> environment, String lower) {
        String upper = lower.toUpperCase(Locale.ROOT);
        if (environment.containsKey(lower)) {
            String value = environment.get(lower);
            return value == null || value.isBlank() ? null : new Setting(lower, value.strip());
        }
        String value = environment.get(upper);
        return value == null || value.isBlank() ? null : new Setting(upper, value.strip());
    }

    /** {@return whether no request goes through a proxy} */
    public boolean isEmpty() {
        return this == NONE || bypassAll;
    }

    /**
     * The proxy a request to {@code target} goes through, or empty for a direct connection.
     *
     * @param target an absolute {@code http} or {@code https} URL
     * @return the proxy, or empty for a direct connection
     * @throws HubException of kind {@link HubError#InvalidSettings} when the proxy variable that
     *     applies does not hold a usable proxy URL (the message names the variable, never its
     *     credentials)
     */
    public Optional<HttpProxy> proxyFor(URI target) {
        if (isEmpty() || target.getHost() == null) {
            return Optional.empty();
        }
        String scheme = target.getScheme().toLowerCase(Locale.ROOT);
        Setting setting = scheme.equals("https") ? https : scheme.equals("http") ? http : null;
        if (setting == null) {
            setting = all;
        }
        if (setting == null) {
            return Optional.empty();
        }
        if (invalidBypass != null) {
            throw new HubException(HubError.InvalidSettings, invalidBypass);
        }
        String host = unbracket(target.getHost()).toLowerCase(Locale.ROOT);
        int port = effectivePort(scheme, target.getPort());
        for (Bypass b : bypass) {
            if (b.matches(scheme, host, port)) {
                return Optional.empty();
            }
        }
        return Optional.of(HttpProxy.parse(setting.variable(), setting.value()));
    }

    /** {@return the variables in use, with any credentials masked} */
    @Override
    public String toString() {
        if (this == NONE) {
            return "ProxyRules[none]";
        }
        List<String> parts = new ArrayList<>();
        for (Setting s : new Setting[] {https, http, all}) {
            if (s != null) {
                parts.add(s.variable() + "=" + HttpProxy.mask(s.value()));
            }
        }
        if (bypassAll) {
            parts.add("no proxy for any host");
        } else if (!bypass.isEmpty()) {
            parts.add("bypass=" + bypass.stream().map(Bypass::entry).toList());
        }
        return "ProxyRules" + parts;
    }

    static int effectivePort(String scheme, int port) {
        return port != -1 ? port : scheme.equals("https") ? 443 : 80;
    }

    static String unbracket(String host) {
        return host.startsWith("[") && host.endsWith("]")
                ? host.substring(1, host.length() - 1)
                : host;
    }

    /**
     * A proxy server: where it listens and the credentials it wants, if any.
     *
     * @param source the environment variable that named it ({@code HTTPS_PROXY}, {@code
     *     https_proxy}, ...), for messages
     * @param scheme how to talk to the proxy; {@code http} is the only one safeload's clients speak
     *     (see {@link #parse})
     * @param host the proxy's host name or address (IPv6 without brackets)
     * @param port the proxy's port (default 80 for {@code http://}, 1080 for SOCKS)
     * @param username the user for {@code Proxy-Authorization: Basic}, or {@code null}
     * @param password the password (empty when only a user is given), or {@code null}
     */
    public record HttpProxy(
            String source, String scheme, String host, int port, String username, String password) {

        /** {@return whether the proxy is to get {@code Proxy-Authorization}} */
        public boolean hasCredentials() {
            return username != null;
        }

        /**
         * {@return the proxy's URL without the credentials, such as {@code http://proxy.corp:3128}}
         */
        public URI uri() {
            String h = host.contains(":") ? "[" + host + "]" : host;
            return URI.create(scheme + "://" + h + ":" + port);
        }

        /**
         * {@return the URL with the credentials masked and where it came from: {@code
         * http://***@proxy.corp:3128 (HTTPS_PROXY)}}
         */
        @Override
        public String toString() {
            String h = host.contains(":") ? "[" + host + "]" : host;
            return scheme
                    + "://"
                    + (hasCredentials() ? "***@" : "")
                    + h
                    + ":"
                    + port
                    + " ("
                    + source
                    + ")";
        }

        /**
         * A proxy URL as huggingface_hub takes it: {@code proxy:3128} means {@code
         * http://proxy:3128}; user and password are percent-decoded.
         */
        static HttpProxy parse(String variable, String value) {
            String text = value.contains("://") ? value : "http://" + value;
            URI uri;
            try {
                uri = new URI(text);
            } catch (URISyntaxException e) {
                throw invalid(variable, value, "is not a URL");
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (uri.getHost() == null) {
                throw invalid(variable, value, "names no host");
            }
            switch (scheme) {
                case "http" -> {}
                case "https" ->
                        throw invalid(
                                variable,
                                value,
                                "asks for TLS to the proxy, which safeload's HTTP client does"
                                        + " not speak; give the proxy's plain http:// port");
                case "socks4", "socks4a", "socks5", "socks5h" ->
                        throw invalid(
                                variable,
                                value,
                                "is a SOCKS proxy, which safeload does not support; set"
                                        + " HTTPS_PROXY to an HTTP proxy, or add the host to"
                                        + " NO_PROXY");
                default ->
                        throw invalid(
                                variable, value, "has the scheme '" + scheme + "', not http://");
            }
            String user = null;
            String password = null;
            String info = uri.getRawUserInfo();
            if (info != null) {
                int colon = info.indexOf(':');
                user = decode(colon < 0 ? info : info.substring(0, colon));
                password = colon < 0 ? "" : decode(info.substring(colon + 1));
            }
            int port = uri.getPort() != -1 ? uri.getPort() : 80;
            return new HttpProxy(variable, scheme, unbracket(uri.getHost()), port, user, password);
        }

        private static String decode(String text) {
            // URLDecoder would turn '+' into a space; in a URL's user info '+' is a plus.
            return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
        }

        private static HubException invalid(String variable, String value, String problem) {
            return new HubException(
                    HubError.InvalidSettings,
                    variable
                            + "='"
                            + mask(value)
                            + "' "
                            + problem
                            + " (expected a proxy URL such as http://proxy.example.com:3128).");
        }

        /** {@code value} with anything between {@code ://} and the last {@code @} masked. */
        static String mask(String value) {
            int at = value.lastIndexOf('@');
            if (at < 0) {
                return value;
            }
            int start = value.indexOf("://");
            start = start < 0 || start > at ? 0 : start + 3;
            return value.substring(0, start) + "***" + value.substring(at);
        }
    }

    /** One {@code NO_PROXY} entry. */
    private record Bypass(
            String entry,
            String scheme,
            String domain,
            boolean subdomainsOnly,
            Cidr cidr,
            int port) {

        static Bypass parse(String entry, String variable) {
            String scheme = null;
            String rest = entry;
            int sep = rest.indexOf("://");
            if (sep >= 0) {
                scheme = rest.substring(0, sep).toLowerCase(Locale.ROOT);
                rest = rest.substring(sep + 3);
                int slash = rest.indexOf('/');
                if (slash >= 0) {
                    rest = rest.substring(0, slash);
                }
            }
            String host = rest;
            int port = -1;
            String cidrBits = null;
            if (host.startsWith("[")) {
                // [v6]:port or [v6]/bits
                int close = host.indexOf(']');
                if (close < 0) {
                    throw invalid(entry, variable);
                }
                String after = host.substring(close + 1);
                host = host.substring(1, close);
                if (after.startsWith(":")) {
                    port = port(after.substring(1), entry, variable);
                } else if (after.startsWith("/")) {
                    cidrBits = after.substring(1);
                } else if (!after.isEmpty()) {
                    throw invalid(entry, variable);
                }
            } else {
                int slash = host.indexOf('/');
                if (slash >= 0) {
                    cidrBits = host.substring(slash + 1);
                    host = host.substring(0, slash);
                }
                int colon = host.indexOf(':');
                if (colon >= 0 && colon == host.lastIndexOf(':')) {
                    port = port(host.substring(colon + 1), entry, variable);
                    host = host.substring(0, colon);
                }
            }
            host = host.toLowerCase(Locale.ROOT);
            if (host.isEmpty()) {
                throw invalid(entry, variable);
            }
            if (host.contains(":") || IPV4.matcher(host).matches()) {
                return new Bypass(
                        entry,
                        scheme,
                        null,
                        false,
                        Cidr.parse(host, cidrBits, entry, variable),
                        port);
            }
            if (cidrBits != null) {
                throw invalid(entry, variable);
            }
            boolean subdomainsOnly = false;
            if (host.startsWith("*.")) {
                host = host.substring(1);
            }
            if (host.startsWith(".")) {
                subdomainsOnly = true;
                host = host.substring(1);
            }
            if (host.isEmpty() || host.contains("*")) {
                throw invalid(entry, variable);
            }
            return new Bypass(entry, scheme, host, subdomainsOnly, null, port);
        }

        boolean matches(String targetScheme, String host, int targetPort) {
            if (scheme != null && !scheme.equals(targetScheme)) {
                return false;
            }
            if (port != -1 && port != targetPort) {
                return false;
            }
            if (cidr != null) {
                return cidr.contains(host);
            }
            if (host.equals(domain)) {
                return !subdomainsOnly;
            }
            return host.endsWith("." + domain);
        }

        private static int port(String text, String entry, String variable) {
            try {
                int port = Integer.parseInt(text);
                if (port > 0 && port < 65536) {
                    return port;
                }
            } catch (NumberFormatException e) {
                // below
            }
            throw invalid(entry, variable);
        }

        static HubException invalid(String entry, String variable) {
            return new HubException(
                    HubError.InvalidSettings,
                    variable
                            + " has the entry '"
                            + entry
                            + "', which is not a host name, an IP address or a CIDR block"
                            + " (examples: example.com, .corp.lan, 10.0.0.0/8, ::1, localhost:8080,"
                            + " *).");
        }
    }

    /** An IP network: an address and how many leading bits must match (all, for one address). */
    private record Cidr(byte[] network, int bits) {
        static Cidr parse(String address, String bitsText, String entry, String variable) {
            byte[] bytes = literal(address);
            if (bytes == null) {
                throw Bypass.invalid(entry, variable);
            }
            int bits = bytes.length * 8;
            if (bitsText != null) {
                try {
                    bits = Integer.parseInt(bitsText);
                } catch (NumberFormatException e) {
                    throw Bypass.invalid(entry, variable);
                }
                if (bits < 0 || bits > bytes.length * 8) {
                    throw Bypass.invalid(entry, variable);
                }
            }
            return new Cidr(bytes, bits);
        }

        boolean contains(String host) {
            byte[] target = literal(host);
            if (target == null || target.length != network.length) {
                return false;
            }
            int shift = network.length * 8 - bits;
            BigInteger a = new BigInteger(1, network).shiftRight(shift);
            BigInteger b = new BigInteger(1, target).shiftRight(shift);
            return a.equals(b);
        }

        /** The bytes of an IP literal, or {@code null} for a host name (never resolved). */
        private static byte[] literal(String host) {
            boolean v4 = IPV4.matcher(host).matches();
            if (!v4 && !host.contains(":")) {
                return null;
            }
            if (v4) {
                for (String part : host.split("\\.")) {
                    if (Integer.parseInt(part) > 255) {
                        return null;
                    }
                }
            } else if (!host.matches("[0-9a-fA-F:.]+(%[\\w.-]+)?")) {
                return null;
            }
            try {
                // Only literals reach here, so no name lookup happens.
                return InetAddress.getByName(v4 ? host : "[" + host + "]").getAddress();
            } catch (UnknownHostException | SecurityException e) {
                return null;
            }
        }
    }
}
