package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.FakeHub;
import dev.safeload.cache.testing.FakeHub.Fault;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** Stalls, renamed repos, 429s, cache fallback, degraded (no-symlink) mode, read-only caches. */
class FaultToleranceTest {
    static final HubRepo REPO = HubRepo.model("org/faulty");

    @TempDir Path cache;

    FakeHub hub;
    String commit;
    byte[] weights = new byte[250_000];

    @BeforeEach
    void start() {
        new Random(9).nextBytes(weights);
        hub = FakeHub.start();
        commit =
                hub.repo(RepoType.MODEL, "org/faulty")
                        .lfsFile("model.safetensors", weights)
                        .file("config.json", "{}".getBytes(StandardCharsets.UTF_8))
                        .commit("main");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubClient client(Consumer<HubSettings.Builder> tweak) {
        HubSettings.Builder b =
                HubSettings.builder(Map.of())
                        .cacheDir(cache)
                        .endpoint(hub.endpoint())
                        .retryBackoff(Duration.ofMillis(10))
                        .maxRetries(3);
        tweak.accept(b);
        return new HubClient(b.build());
    }

    @Test
    void aStalledBodyTimesOutAndResumes() throws IOException {
        hub.fault(Fault.stall("model.safetensors", 100_000, 1));
        try (HubClient client = client(b -> b.downloadTimeout(Duration.ofMillis(500)))) {
            long start = System.nanoTime();
            Path file = client.downloadFile(REPO, "model.safetensors", "main");
            assertArrayEquals(weights, Files.readAllBytes(file));
            assertTrue(System.nanoTime() - start < 20_000_000_000L, "the stall guard fired");
        }
        assertEquals(
                List.of("bytes=100000-"),
                hub.requests(r -> r.header("Range") != null).stream()
                        .map(r -> r.header("Range"))
                        .toList());
    }

    @Test
    void aCorruptPartialFromAnEarlierRunIsDiscardedAndFetchedAgain() throws IOException {
        String sha = FakeHub.sha256Hex(weights);
        Path blobs = Files.createDirectories(cache.resolve("models--org--faulty/blobs"));
        byte[] garbage = new byte[50_000];
        java.util.Arrays.fill(garbage, (byte) 7);
        Files.write(blobs.resolve(sha + ".safeload.incomplete"), garbage);
        try (HubClient client = client(b -> {})) {
            Path file = client.downloadFile(REPO, "model.safetensors", "main");
            assertArrayEquals(weights, Files.readAllBytes(file));
        }
        List<String> ranges =
                hub.requests(r -> r.method().equals("GET")).stream()
                        .map(r -> String.valueOf(r.header("Range")))
                        .toList();
        assertEquals(
                List.of("bytes=50000-", "null"),
                ranges,
                "resume first, then one full download after the mismatch");
        assertFalse(Files.exists(blobs.resolve(sha + ".safeload.incomplete")));
    }

    @Test
    void followsTheRelativeRedirectOfARenamedRepo() throws IOException {
        hub.rename(RepoType.MODEL, "org/old-name", "org/faulty");
        try (HubClient client = client(b -> {})) {
            Path file = client.downloadFile(HubRepo.model("org/old-name"), "config.json", "main");
            assertEquals(
                    cache.resolve("models--org--old-name/snapshots/" + commit + "/config.json"),
                    file);
            assertEquals("{}", Files.readString(file));
        }
    }

    @Test
    void rateLimitsAndServerErrorsAreRetried() throws IOException {
        hub.fault(Fault.status("config.json", 429, 1))
                .fault(Fault.status("config.json", 503, 1))
                .fault(Fault.status("model.safetensors", 502, 2));
        try (HubClient client = client(b -> {})) {
            assertEquals("{}", Files.readString(client.downloadFile(REPO, "config.json", "main")));
            assertArrayEquals(
                    weights,
                    Files.readAllBytes(client.downloadFile(REPO, "model.safetensors", "main")));
        }
        hub.fault(Fault.status("config.json", 500, -1));
        try (HubClient client = client(b -> b.maxRetries(1))) {
            HubException e =
                    assertThrows(
                            HubException.class,
                            () ->
                                    client.downloadFile(
                                            HubRepo.model("org/faulty"), "config.json", "other"));
            assertEquals(HubError.ServerError, e.kind());
            assertTrue(e.getMessage().contains("HTTP 500"), e.getMessage());
        }
    }

    @Test
    void aFailingHubFallsBackToTheCachedFile() throws IOException {
        try (HubClient client = client(b -> {})) {
            client.downloadFile(REPO, "config.json", "main");
            hub.fault(Fault.status("config.json", 500, -1));
            hub.clearRequests();
            assertEquals("{}", Files.readString(client.downloadFile(REPO, "config.json", "main")));
            assertEquals(
                    1, hub.requests().size(), "one HEAD, no retry storm before using the cache");
        }
    }

    @Test
    void withoutSymlinksSnapshotsHoldRegularFiles() throws IOException {
        try (HubClient client = client(b -> b.symlinksDisabled(true))) {
            Path file = client.downloadFile(REPO, "model.safetensors", "main");
            assertFalse(Files.isSymbolicLink(file));
            assertArrayEquals(weights, Files.readAllBytes(file));
            Path config =
                    client.snapshotDownload(REPO, "main", SnapshotOptions.defaults())
                            .resolve("config.json");
            assertFalse(Files.isSymbolicLink(config));
            assertEquals("{}", Files.readString(config));
        }
    }

    @Test
    void aCompleteCacheResolvesOfflineWithoutWritingAnything() throws IOException {
        try (HubClient client = client(b -> {})) {
            client.snapshotDownload(REPO, "main", SnapshotOptions.defaults());
        }
        Map<String, FileTime> before = tree(cache);
        setWritable(cache, false);
        try (HubClient offline = client(b -> b.offline(true))) {
            assertArrayEquals(
                    weights,
                    Files.readAllBytes(offline.downloadFile(REPO, "model.safetensors", "main")));
            assertTrue(
                    Files.isDirectory(
                            offline.snapshotDownload(REPO, "main", SnapshotOptions.defaults())));
            assertTrue(
                    Files.isDirectory(
                            offline.snapshotDownload(REPO, commit, SnapshotOptions.defaults())));
        } finally {
            setWritable(cache, true);
        }
        assertEquals(before, tree(cache), "an offline resolve must not touch the cache");
    }

    private static Map<String, FileTime> tree(Path root) throws IOException {
        Map<String, FileTime> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                out.put(
                        root.relativize(p).toString(),
                        Files.getLastModifiedTime(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
            }
        }
        return out;
    }

    private static void setWritable(Path root, boolean writable) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(p -> !Files.isSymbolicLink(p)).toList()) {
                p.toFile().setWritable(writable, false);
            }
        }
    }
}
