package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.CacheFixture;
import dev.safeload.cache.testing.FakeHub;
import dev.safeload.cache.testing.Squid;
import dev.safeload.cache.testing.TestTls;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Downloads through a real HTTP proxy (Debian's Squid on loopback, started per test): the proxy
 * variables route requests as huggingface_hub routes them, NO_PROXY hosts go around the proxy,
 * Basic credentials reach the proxy for plain and tunnelled (HTTPS) requests without any JVM-wide
 * setting, and no credential shows in a message (docs/hub.md §2.10).
 */
class ProxyDownloadTest {
    private static final String USER = "alice";
    private static final String PASSWORD = "hunter2.x";

    /** The password percent-encoded in the proxy URL, which must be decoded before use. */
    private static final String ENCODED = "hunter2%2Ex";

    private static final byte[] CONFIG = "{\"hidden\": 8}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] WEIGHTS = CacheFixture.bytes(300_000, 17);

    @TempDir Path tmp;

    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeEach
    void needsSquid() {
        Assumptions.assumeTrue(
                Squid.installed(), "squid is not installed (.ci/run installs it with apt-get)");
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T resource) {
        closing.add(resource);
        return resource;
    }

    private FakeHub hub(TestTls tls) {
        FakeHub hub = closeLater(FakeHub.start("127.0.0.1", tls));
        hub.repo(RepoType.MODEL, "org/m")
                .file("config.json", CONFIG)
                .lfsFile("model.safetensors", WEIGHTS)
                .commit("main");
        return hub;
    }

    private Squid proxy(boolean auth) {
        return closeLater(Squid.start(auth ? USER : null, PASSWORD));
    }

    private Path download(Map<String, String> env, URI endpoint, Path cache, Path trusted) {
        HubSettings.Builder settings =
                HubSettings.builder(env)
                        .cacheDir(cache)
                        .endpoint(endpoint)
                        .retryBackoff(Duration.ofMillis(10))
                        .maxRetries(1);
        if (trusted != null) {
            settings.trustedCertificates(trusted);
        }
        try (HubClient client = new HubClient(settings.build())) {
            return client.snapshotDownload(
                    HubRepo.model("org/m"), "main", SnapshotOptions.defaults());
        }
    }

    private static void assertSnapshot(Path snapshot) throws Exception {
        assertArrayEquals(CONFIG, Files.readAllBytes(snapshot.resolve("config.json")));
        assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.resolve("model.safetensors")));
    }

    private static long toHub(Squid proxy, URI endpoint) {
        String authority = endpoint.getHost() + ":" + endpoint.getPort();
        return proxy.requests().stream().filter(r -> r.url().contains(authority)).count();
    }

    @Test
    void requestsGoThroughTheProxyAndNoProxyHostsGoAround() throws Exception {
        FakeHub hub = hub(null);
        Squid proxy = proxy(false);
        Map<String, String> env = new HashMap<>();
        env.put("http_proxy", proxy.uri().toString());
        env.put("NO_PROXY", "localhost,example.com");

        assertSnapshot(download(env, hub.endpoint(), tmp.resolve("c1"), null));
        String base = hub.endpoint().toString();
        assertTrue(
                proxy.awaitLogged(
                        r ->
                                r.method().equals("GET")
                                        && r.url()
                                                .equals(base + "/api/models/org/m/revision/main")),
                proxy.log());
        assertTrue(
                proxy.awaitLogged(
                        r ->
                                r.method().equals("GET")
                                        && r.url().startsWith(base + "/org/m/resolve/")),
                proxy.log());
        List<Squid.Logged> seen = proxy.requests();
        long viaProxy = toHub(proxy, hub.endpoint());

        // The same hub named "localhost" is in NO_PROXY: nothing more reaches the proxy.
        URI byName = URI.create("http://localhost:" + hub.endpoint().getPort());
        hub.clearRequests();
        assertSnapshot(download(env, byName, tmp.resolve("c2"), null));
        assertFalse(hub.requests().isEmpty(), "the hub was asked directly");
        assertEquals(viaProxy, toHub(proxy, hub.endpoint()), proxy.log());
        assertEquals(seen.size(), proxy.requests().size(), proxy.log());

        // A CIDR block covers the address.
        env.put("NO_PROXY", "10.0.0.0/8, 127.0.0.0/8");
        assertSnapshot(download(env, hub.endpoint(), tmp.resolve("c3"), null));
        assertEquals(seen.size(), proxy.requests().size(), proxy.log());
    }

    @Test
    void basicCredentialsReachTheProxyAndNeverShow() throws Exception {
        FakeHub hub = hub(null);
        Squid proxy = proxy(true);
        Map<String, String> env = Map.of("HTTP_PROXY", proxy.uri(USER, ENCODED));
        assertSnapshot(download(env, hub.endpoint(), tmp.resolve("ok"), null));
        assertTrue(
                proxy.awaitLogged(r -> r.user().equals(USER) && r.status().endsWith("/200")),
                "the proxy saw the user: " + proxy.log());
        assertTrue(
                hub.requests().stream().allMatch(r -> r.header("Proxy-Authorization") == null),
                "the proxy keeps its credentials");

        Map<String, String> wrong = Map.of("HTTP_PROXY", proxy.uri(USER, "not-" + PASSWORD));
        HubException e =
                assertThrows(
                        HubException.class,
                        () -> download(wrong, hub.endpoint(), tmp.resolve("bad"), null));
        assertEquals(HubError.ProxyError, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("407"), e.getMessage());
        assertTrue(e.getMessage().contains("http://***@127.0.0.1:"), e.getMessage());
        assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());

        Map<String, String> none = Map.of("HTTP_PROXY", proxy.uri().toString());
        HubException missing =
                assertThrows(
                        HubException.class,
                        () -> download(none, hub.endpoint(), tmp.resolve("none"), null));
        assertEquals(HubError.ProxyError, missing.kind(), missing.getMessage());
    }

    @Test
    void httpsTunnelsCarryCredentialsWithoutAnyJvmSetting() throws Exception {
        TestTls tls = TestTls.create(tmp.resolve("tls"));
        FakeHub hub = hub(tls);
        hub.requireToken("hf_tok");
        Squid proxy = proxy(true);
        Map<String, String> env =
                Map.of("HTTPS_PROXY", proxy.uri(USER, ENCODED), "HF_TOKEN", "hf_tok");
        String before = System.getProperty("jdk.http.auth.tunneling.disabledSchemes");

        assertSnapshot(download(env, hub.endpoint(), tmp.resolve("ok"), tls.certificatePem()));
        String tunnel = "127.0.0.1:" + hub.endpoint().getPort();
        assertTrue(
                proxy.awaitLogged(
                        r ->
                                r.method().equals("CONNECT")
                                        && r.url().equals(tunnel)
                                        && r.user().equals(USER)
                                        && r.status().equals("TCP_TUNNEL/200")),
                proxy.log());
        assertTrue(
                hub.requests().stream()
                        .allMatch(
                                r ->
                                        r.header("Proxy-Authorization") == null
                                                && "Bearer hf_tok"
                                                        .equals(r.header("Authorization"))),
                "the token reaches the hub inside the tunnel, the proxy credentials do not");
        assertEquals(before, System.getProperty("jdk.http.auth.tunneling.disabledSchemes"));

        Map<String, String> wrong =
                Map.of("HTTPS_PROXY", proxy.uri(USER, "wrong"), "HF_TOKEN", "hf_tok");
        HubException e =
                assertThrows(
                        HubException.class,
                        () ->
                                download(
                                        wrong,
                                        hub.endpoint(),
                                        tmp.resolve("bad"),
                                        tls.certificatePem()));
        assertEquals(HubError.ProxyError, e.kind(), e.getMessage());
        assertFalse(e.getMessage().contains("wrong"), e.getMessage());
        assertFalse(e.getMessage().contains("hf_tok"), e.getMessage());
    }

    @Test
    void httpsTunnelsWithoutCredentialsAndTrustStaysPerClient() throws Exception {
        TestTls tls = TestTls.create(tmp.resolve("tls"));
        FakeHub hub = hub(tls);
        Squid proxy = proxy(false);
        Map<String, String> env = Map.of("HTTPS_PROXY", proxy.uri().toString());
        assertSnapshot(download(env, hub.endpoint(), tmp.resolve("ok"), tls.certificatePem()));
        assertTrue(
                proxy.awaitLogged(
                        r ->
                                r.method().equals("CONNECT")
                                        && r.url().equals("127.0.0.1:" + hub.endpoint().getPort())),
                proxy.log());

        // SSL_CERT_FILE is read from the client's environment; a client without it does not trust
        // the test certificate: nothing leaked into the JVM's default trust.
        Map<String, String> withFile =
                Map.of(
                        "HTTPS_PROXY", proxy.uri().toString(),
                        "SSL_CERT_FILE", tls.certificatePem().toString());
        assertSnapshot(download(withFile, hub.endpoint(), tmp.resolve("env"), null));
        HubException untrusted =
                assertThrows(
                        HubException.class,
                        () -> download(env, hub.endpoint(), tmp.resolve("untrusted"), null));
        assertTrue(
                untrusted.getMessage().contains("unable to find valid certification path"),
                untrusted.getMessage());
    }

    @Test
    void serveUpstreamPullsThroughTheProxy() throws Exception {
        FakeHub upstream = hub(null);
        Squid proxy = proxy(true);
        Map<String, String> env = Map.of("HTTP_PROXY", proxy.uri(USER, ENCODED));
        CacheMirrorServer mirror =
                closeLater(
                        CacheMirrorServer.start(
                                new CacheMirrorServer.Options(tmp.resolve("mirror"))
                                        .withUpstream(
                                                upstream.endpoint(), HubSettings.builder(env))));
        // The client talks to the mirror directly; the mirror's misses go through the proxy.
        assertSnapshot(download(Map.of(), mirror.uri(), tmp.resolve("client"), null));
        String up = upstream.endpoint().toString();
        assertTrue(
                proxy.awaitLogged(r -> r.user().equals(USER) && r.url().startsWith(up)),
                proxy.log());
        assertEquals(0, toHub(proxy, mirror.uri()), proxy.log());
    }
}
