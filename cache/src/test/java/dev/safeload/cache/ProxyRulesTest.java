package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.ProxyRules.HttpProxy;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The proxy variables read as huggingface_hub's HTTP client reads them (docs/hub.md §2.10). */
class ProxyRulesTest {
    private static Optional<HttpProxy> route(Map<String, String> env, String url) {
        return ProxyRules.fromEnvironment(env).proxyFor(URI.create(url));
    }

    private static String via(Map<String, String> env, String url) {
        return route(env, url).map(p -> p.host() + ":" + p.port()).orElse("direct");
    }

    @Test
    void schemePicksTheVariableAndAllProxyIsTheFallback() {
        Map<String, String> env =
                Map.of(
                        "HTTPS_PROXY", "http://secure:3128",
                        "HTTP_PROXY", "plain:8080",
                        "ALL_PROXY", "http://fallback:1");
        assertEquals("secure:3128", via(env, "https://huggingface.co/api/models/x"));
        assertEquals("plain:8080", via(env, "http://mirror.lan/x"));
        assertEquals("fallback:1", via(Map.of("ALL_PROXY", "fallback:1"), "https://h/x"));
        assertEquals("fallback:1", via(Map.of("all_proxy", "fallback:1"), "http://h/x"));
        assertEquals("direct", via(Map.of("HTTP_PROXY", "plain:8080"), "https://h/x"));
        assertEquals("direct", via(Map.of(), "https://h/x"));
        assertEquals(80, route(Map.of("HTTP_PROXY", "plain"), "http://m/x").orElseThrow().port());
        assertEquals("plain", route(env, "http://m/x").orElseThrow().host());
    }

    @Test
    void lowerCaseWinsAndAnEmptyLowerCaseUnsets() {
        assertEquals(
                "lower:1",
                via(Map.of("https_proxy", "lower:1", "HTTPS_PROXY", "upper:2"), "https://h/"));
        assertEquals(
                "direct", via(Map.of("https_proxy", "", "HTTPS_PROXY", "upper:2"), "https://h/"));
        assertEquals("upper:2", via(Map.of("HTTPS_PROXY", "upper:2"), "https://h/"));
        // An empty upper-case value is no proxy either.
        assertEquals("direct", via(Map.of("HTTPS_PROXY", " "), "https://h/"));
    }

    @Test
    void cgiScriptsIgnoreUpperCaseHttpProxy() {
        Map<String, String> env = Map.of("HTTP_PROXY", "evil:1", "REQUEST_METHOD", "GET");
        assertEquals("direct", via(env, "http://h/"));
        assertEquals(
                "ok:2", via(Map.of("http_proxy", "ok:2", "REQUEST_METHOD", "GET"), "http://h/"));
    }

    @Test
    void noProxyHostsSuffixesAddressesCidrsPortsAndStar() {
        Map<String, String> env = new HashMap<>();
        env.put("HTTPS_PROXY", "proxy:3128");
        env.put("HTTP_PROXY", "proxy:3128");
        env.put(
                "NO_PROXY",
                " example.com, .corp.lan ,*.wild.org,localhost,10.0.0.0/8,192.168.1.7,"
                        + "fd00::/8,[::1],mirror.lan:8080,http://plain-only.net");
        // example.com: the domain and its subdomains, not a look-alike
        assertEquals("direct", via(env, "https://example.com/x"));
        assertEquals("direct", via(env, "https://cdn.EXAMPLE.com/x"));
        assertEquals("proxy:3128", via(env, "https://badexample.com/x"));
        // .corp.lan: subdomains only, as httpx reads a leading dot
        assertEquals("direct", via(env, "https://hub.corp.lan/x"));
        assertEquals("proxy:3128", via(env, "https://corp.lan/x"));
        assertEquals("direct", via(env, "https://a.wild.org/"));
        assertEquals("direct", via(env, "http://localhost:8080/"));
        // CIDR blocks and single addresses, never resolving names
        assertEquals("direct", via(env, "http://10.20.30.40/"));
        assertEquals("proxy:3128", via(env, "http://11.0.0.1/"));
        assertEquals("direct", via(env, "http://192.168.1.7:9000/"));
        assertEquals("proxy:3128", via(env, "http://192.168.1.8/"));
        assertEquals("direct", via(env, "http://[fd12:3456::1]/"));
        assertEquals("proxy:3128", via(env, "http://[fe80::1]/"));
        assertEquals("direct", via(env, "http://[::1]:8080/"));
        // a port narrows the entry
        assertEquals("direct", via(env, "http://mirror.lan:8080/"));
        assertEquals("proxy:3128", via(env, "http://mirror.lan/"));
        // a scheme narrows it too
        assertEquals("direct", via(env, "http://plain-only.net/"));
        assertEquals("proxy:3128", via(env, "https://plain-only.net/"));

        env.put("no_proxy", "other.org, *");
        assertEquals("direct", via(env, "https://anything.example/"));
        assertTrue(ProxyRules.fromEnvironment(env).isEmpty());
    }

    @Test
    void credentialsArePercentDecodedAndNeverShown() {
        Map<String, String> env =
                Map.of("HTTPS_PROXY", "http://al%40ice:p%3As+ss%2F@proxy.corp:3128");
        HttpProxy proxy = route(env, "https://huggingface.co/").orElseThrow();
        assertEquals("al@ice", proxy.username());
        assertEquals("p:s+ss/", proxy.password());
        assertTrue(proxy.hasCredentials());
        assertEquals(URI.create("http://proxy.corp:3128"), proxy.uri());
        assertEquals("http://***@proxy.corp:3128 (HTTPS_PROXY)", proxy.toString());
        String rules = ProxyRules.fromEnvironment(env).toString();
        assertFalse(rules.contains("p%3A") || rules.contains("al%40"), rules);
        assertTrue(rules.contains("***@proxy.corp:3128"), rules);

        HttpProxy userOnly =
                route(Map.of("HTTPS_PROXY", "http://bob@p:1"), "https://h/").orElseThrow();
        assertEquals("bob", userOnly.username());
        assertEquals("", userOnly.password());
        HttpProxy v6 =
                route(Map.of("HTTPS_PROXY", "http://[::1]:3128"), "https://h/").orElseThrow();
        assertEquals("::1", v6.host());
        assertEquals(URI.create("http://[::1]:3128"), v6.uri());
    }

    @Test
    void unusableProxiesFailWithTheVariableAndNoSecret() {
        HubException socks =
                assertThrows(
                        HubException.class,
                        () ->
                                route(
                                        Map.of("ALL_PROXY", "socks5://u:topsecret@s:1080"),
                                        "https://h/"));
        assertEquals(HubError.InvalidSettings, socks.kind());
        assertTrue(
                socks.getMessage().startsWith("ALL_PROXY='socks5://***@s:1080' is a SOCKS"),
                socks.getMessage());
        assertFalse(socks.getMessage().contains("topsecret"));

        HubException tls =
                assertThrows(
                        HubException.class,
                        () -> route(Map.of("https_proxy", "https://p:443"), "https://h/"));
        assertTrue(tls.getMessage().contains("https_proxy="), tls.getMessage());
        assertTrue(tls.getMessage().contains("TLS to the proxy"), tls.getMessage());

        // Only the variable a request would use is checked.
        assertEquals(
                "ok:1",
                via(Map.of("ALL_PROXY", "socks5://s:1080", "HTTPS_PROXY", "ok:1"), "https://h/"));

        Map<String, String> badNoProxy = Map.of("HTTPS_PROXY", "p:1", "NO_PROXY", "10.0.0.0/99");
        ProxyRules rules = ProxyRules.fromEnvironment(badNoProxy); // no failure until used
        HubException bypass =
                assertThrows(HubException.class, () -> rules.proxyFor(URI.create("https://h/")));
        assertEquals(HubError.InvalidSettings, bypass.kind());
        assertTrue(bypass.getMessage().contains("'10.0.0.0/99'"), bypass.getMessage());
        assertEquals("direct", via(Map.of("NO_PROXY", "10.0.0.0/99"), "https://h/"));
    }

    @Test
    void hubSettingsTakeTheRulesFromTheirEnvironment() {
        HubSettings settings =
                HubSettings.builder(
                                Map.of(
                                        "HF_HUB_CACHE", "/tmp/c",
                                        "HTTPS_PROXY", "http://u:hunter2@p:3128"))
                        .build();
        assertEquals(
                "p",
                settings.proxies()
                        .proxyFor(URI.create("https://huggingface.co/"))
                        .orElseThrow()
                        .host());
        assertFalse(settings.toString().contains("hunter2"), settings.toString());
        assertTrue(HubSettings.builder(Map.of()).build().proxies().isEmpty());
    }
}
