package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.CacheFixture;
import dev.safeload.cache.testing.FakeHub;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** The mirror pulling misses from an upstream hub into its cache, then serving them without it. */
class MirrorUpstreamTest {
    @TempDir Path tmp;

    private static final byte[] CONFIG = "{\"n\": 3}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] WEIGHTS = CacheFixture.bytes(1 << 20, 31);

    @Test
    void missesArePulledOnceCachedAndServedAfterTheUpstreamIsGone() throws Exception {
        Path mirrorCache = tmp.resolve("mirror");
        String commit;
        java.net.URI mirrorUri;
        CacheMirrorServer server;
        try (FakeHub upstream = FakeHub.start()) {
            commit =
                    upstream.repo(RepoType.MODEL, "org/m")
                            .file("config.json", CONFIG)
                            .lfsFile("model.safetensors", WEIGHTS)
                            .commit("main");
            server =
                    CacheMirrorServer.start(
                            new CacheMirrorServer.Options(mirrorCache)
                                    .withUpstream(
                                            upstream.endpoint(), HubSettings.builder(Map.of())));
            mirrorUri = server.uri();
            // Eight clients ask the empty mirror for the same file at once.
            try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                List<Future<Path>> futures = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    Path cache = tmp.resolve("client" + i);
                    futures.add(
                            pool.submit(
                                    () -> {
                                        try (HubClient hub =
                                                new HubClient(
                                                        HubSettings.builder(Map.of())
                                                                .cacheDir(cache)
                                                                .endpoint(mirrorUri)
                                                                .build())) {
                                            return hub.downloadFile(
                                                    HubRepo.model("org/m"),
                                                    "model.safetensors",
                                                    "main");
                                        }
                                    }));
                }
                for (Future<Path> f : futures) {
                    assertArrayEquals(WEIGHTS, Files.readAllBytes(f.get()));
                }
            }
            long upstreamGets =
                    upstream.requests(
                                    r ->
                                            r.method().equals("GET")
                                                    && r.path().contains("model.safetensors"))
                            .size();
            assertEquals(1, upstreamGets, "the mirror downloaded the file once for all clients");
        }
        try {
            // The upstream is gone: what the mirror cached is still served, by commit and by
            // branch.
            Path later = tmp.resolve("later");
            try (HubClient hub =
                    new HubClient(
                            HubSettings.builder(Map.of())
                                    .cacheDir(later)
                                    .endpoint(mirrorUri)
                                    .maxRetries(0)
                                    .build())) {
                assertArrayEquals(
                        WEIGHTS,
                        Files.readAllBytes(
                                hub.downloadFile(
                                        HubRepo.model("org/m"), "model.safetensors", commit)));
                assertArrayEquals(
                        WEIGHTS,
                        Files.readAllBytes(
                                hub.downloadFile(
                                        HubRepo.model("org/m"), "model.safetensors", "main")));
            }
            CacheReport mirror = CacheScanner.scan(mirrorCache);
            assertEquals(List.of(), mirror.problems());
            assertEquals(
                    Map.of("main", commit),
                    mirror.repo(RepoType.MODEL, "org/m").orElseThrow().refs());
        } finally {
            server.close();
        }
    }

    @Test
    void huggingfaceHubSnapshotThroughAnEmptyMirror() throws Exception {
        PythonOracle.assume("huggingface_hub");
        try (FakeHub upstream = FakeHub.start()) {
            String commit =
                    upstream.repo(RepoType.MODEL, "org/m")
                            .file("config.json", CONFIG)
                            .lfsFile("model.safetensors", WEIGHTS)
                            .file("sub/notes.md", "n".getBytes(StandardCharsets.UTF_8))
                            .commit("main");
            Path fresh = tmp.resolve("fresh");
            try (CacheMirrorServer server =
                    CacheMirrorServer.start(
                            new CacheMirrorServer.Options(tmp.resolve("mirror"))
                                    .withUpstream(
                                            upstream.endpoint(), HubSettings.builder(Map.of())))) {
                PythonOracle.run(
                                """
                                from huggingface_hub import snapshot_download
                                print(snapshot_download("org/m"))
                                """,
                                List.of(),
                                Map.of(
                                        "HF_ENDPOINT",
                                        server.uri().toString(),
                                        "HF_HUB_CACHE",
                                        fresh.toString(),
                                        "HF_HUB_DISABLE_XET",
                                        "1",
                                        "HF_HUB_DISABLE_TELEMETRY",
                                        "1",
                                        "HF_TOKEN",
                                        ""),
                                180)
                        .orThrow();
            }
            Path snapshot = fresh.resolve("models--org--m/snapshots").resolve(commit);
            assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.resolve("model.safetensors")));
            assertArrayEquals(CONFIG, Files.readAllBytes(snapshot.resolve("config.json")));
            assertTrue(Files.exists(snapshot.resolve("sub/notes.md")));
        }
    }
}
