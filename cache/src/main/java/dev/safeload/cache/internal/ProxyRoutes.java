package dev.safeload.cache.internal;

import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;
import dev.safeload.cache.ProxyRules;
import dev.safeload.cache.ProxyRules.HttpProxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How one HTTP client reaches each URL under {@link ProxyRules} (docs/hub.md §2.10): the {@link
 * ProxySelector} it is built with, and the {@code Proxy-Authorization} header each request needs.
 *
 * <ul>
 *   <li>direct: no proxy, no proxy header (the JDK strips {@code Proxy-*} headers there anyway);
 *   <li>{@code http://} through a proxy: the request goes to the proxy, with {@code
 *       Proxy-Authorization: Basic} when the proxy URL holds credentials;
 *   <li>{@code https://} through a proxy without credentials: a {@code CONNECT} tunnel from the JDK
 *       client;
 *   <li>{@code https://} through a proxy with credentials: the tunnel goes through a {@link
 *       ProxyTunnelRelay}, since the JDK will not send Basic credentials in a {@code CONNECT}.
 * </ul>
 *
 * Owns the relays it starts; {@link #close()} stops them.
 */
public final class ProxyRoutes extends ProxySelector implements AutoCloseable {
    private static final List<Proxy> DIRECT = List.of(Proxy.NO_PROXY);

    private final ProxyRules rules;
    private final Duration timeout;
    private final Map<HttpProxy, ProxyTunnelRelay> relays = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public ProxyRoutes(ProxyRules rules, Duration timeout) {
        this.rules = rules;
        this.timeout = timeout;
    }

    /** Whether any URL may go through a proxy (a client without one needs no selector). */
    public boolean any() {
        return !rules.isEmpty();
    }

    /** The proxy {@code url} goes through, if any (checked before the request is sent). */
    public Optional<HttpProxy> proxyFor(URI url) {
        return rules.proxyFor(url);
    }

    /**
     * Adds the proxy header {@code url}'s route needs to {@code request}; returns the proxy, or
     * empty for a direct connection.
     */
    public Optional<HttpProxy> prepare(URI url, HttpRequest.Builder request) {
        Optional<HttpProxy> proxy = rules.proxyFor(url);
        if (proxy.isPresent() && proxy.get().hasCredentials()) {
            if (isHttps(url)) {
                request.header("Proxy-Authorization", relay(proxy.get()).clientCredential());
            } else {
                request.header("Proxy-Authorization", basic(proxy.get()));
            }
        }
        return proxy;
    }

    /** The relay's account of a failed tunnel to explain the JDK's bare status, or null. */
    public String tunnelFailure(HttpProxy proxy) {
        ProxyTunnelRelay relay = relays.get(proxy);
        return relay == null ? null : relay.lastFailure();
    }

    @Override
    public List<Proxy> select(URI uri) {
        Optional<HttpProxy> proxy;
        try {
            proxy = rules.proxyFor(uri);
        } catch (HubException e) {
            // prepare() has reported it before the request was sent; never go around the proxy.
            return List.of(unreachable());
        }
        if (proxy.isEmpty()) {
            return DIRECT;
        }
        HttpProxy p = proxy.get();
        if (p.hasCredentials() && isHttps(uri)) {
            return List.of(new Proxy(Proxy.Type.HTTP, relay(p).address()));
        }
        return List.of(
                new Proxy(Proxy.Type.HTTP, InetSocketAddress.createUnresolved(p.host(), p.port())));
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {
        // Nothing to learn: there is one proxy per URL, and HubHttp reports the failure.
    }

    private static Proxy unreachable() {
        return new Proxy(Proxy.Type.HTTP, new InetSocketAddress("127.0.0.1", 9));
    }

    private ProxyTunnelRelay relay(HttpProxy proxy) {
        return relays.computeIfAbsent(
                proxy,
                p -> {
                    if (closed) {
                        throw new HubException(HubError.Network, "the HTTP client is closed");
                    }
                    try {
                        return new ProxyTunnelRelay(p, timeout);
                    } catch (IOException e) {
                        throw new HubException(
                                HubError.ProxyError,
                                "cannot open the local tunnel relay for the proxy "
                                        + p
                                        + ": "
                                        + e.getMessage(),
                                e);
                    }
                });
    }

    private static boolean isHttps(URI url) {
        return "https".equalsIgnoreCase(url.getScheme());
    }

    private static String basic(HttpProxy proxy) {
        String pair = proxy.username() + ":" + (proxy.password() == null ? "" : proxy.password());
        return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        closed = true;
        relays.values().forEach(ProxyTunnelRelay::close);
        relays.clear();
    }
}
