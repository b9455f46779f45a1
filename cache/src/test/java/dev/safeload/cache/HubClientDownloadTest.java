package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.time.Duration;
import java.util.List;
import java.util.Random;

/** hf_hub_download against a real loopback hub: layout, request counts, faults, verification. */
class HubClientDownloadTest {
    static final HubRepo REPO = HubRepo.model("org/tiny");
    static final byte[] CONFIG = "{\"hidden_size\": 8}\n".getBytes(StandardCharsets.UTF_8);
    static final byte[] WEIGHTS = randomBytes(300_000, 7);

    @TempDir Path cache;

    FakeHub hub;
    String commit;

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @BeforeEach
    void startHub() {
        hub = FakeHub.start();
        commit =
                hub.repo(RepoType.MODEL, "org/tiny")
                        .file("config.json", CONFIG)
                        .lfsFile("model.safetensors", WEIGHTS)
                        .file("nested/deep/notes.txt", "hello".getBytes(StandardCharsets.UTF_8))
                        .commit("main");
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    HubClient client() {
        return client(b -> {});
    }

    HubClient client(java.util.function.Consumer<HubSettings.Builder> tweak) {
        HubSettings.Builder b =
                HubSettings.builder(java.util.Map.of())
                        .cacheDir(cache)
                        .endpoint(hub.endpoint())
                        .retryBackoff(Duration.ofMillis(10))
                        .maxRetries(3);
        tweak.accept(b);
        return new HubClient(b.build());
    }

    @Test
    void downloadsIntoTheHubLayout() throws IOException {
        try (HubClient client = client()) {
            Path file = client.downloadFile(REPO, "model.safetensors", "main");
            Path repoDir = cache.resolve("models--org--tiny");
            assertEquals(
                    repoDir.resolve("snapshots").resolve(commit).resolve("model.safetensors"),
                    file);
            assertTrue(Files.isSymbolicLink(file));
            String sha = FakeHub.sha256Hex(WEIGHTS);
            assertEquals(Path.of("../../blobs/" + sha), Files.readSymbolicLink(file));
            assertArrayEquals(WEIGHTS, Files.readAllBytes(file));
            assertEquals(
                    commit, Files.readString(repoDir.resolve("refs/main")), "no trailing newline");
            assertTrue(Files.exists(cache.resolve("CACHEDIR.TAG")));
            assertTrue(Files.exists(cache.resolve(".locks/models--org--tiny/" + sha + ".lock")));

            Path nested = client.downloadFile(REPO, "nested/deep/notes.txt", "main");
            assertEquals(
                    Path.of(
                            "../../../../blobs/"
                                    + FakeHub.gitSha1("hello".getBytes(StandardCharsets.UTF_8))),
                    Files.readSymbolicLink(nested));
            assertEquals("hello", Files.readString(nested));
        }
    }

    @Test
    void datasetsAndPullRequestRevisionsUseTheirPrefixAndNestedRefs() throws IOException {
        String dsCommit =
                hub.repo(RepoType.DATASET, "org/ds")
                        .file("data/train.csv", "a,b\n".getBytes(StandardCharsets.UTF_8))
                        .commit("main");
        hub.repo(RepoType.DATASET, "org/ds").ref("refs/pr/3", dsCommit);
        try (HubClient client = client()) {
            Path file =
                    client.downloadFile(HubRepo.dataset("org/ds"), "data/train.csv", "refs/pr/3");
            assertEquals(
                    cache.resolve("datasets--org--ds/snapshots/" + dsCommit + "/data/train.csv"),
                    file);
            assertEquals(
                    dsCommit, Files.readString(cache.resolve("datasets--org--ds/refs/refs/pr/3")));
        }
        assertTrue(
                hub.requests()
                        .getFirst()
                        .path()
                        .startsWith("/datasets/org/ds/resolve/refs%2Fpr%2F3/"),
                hub.requests().getFirst().path());
    }

    @Test
    void cachedFileCostsNoRequestForACommitAndOneHeadForABranch() {
        try (HubClient client = client()) {
            client.downloadFile(REPO, "config.json", "main");
            hub.clearRequests();
            client.downloadFile(REPO, "config.json", commit);
            assertEquals(List.of(), hub.requests());
            client.downloadFile(REPO, "config.json", "main");
            assertEquals(1, hub.requests().size());
            assertEquals("HEAD", hub.requests().getFirst().method());
        }
    }

    @Test
    void retriesServerErrorsAndResumesACutBodyWithRange() throws IOException {
        hub.fault(Fault.status("model.safetensors", 500, 2))
                .fault(Fault.cut("model.safetensors", 100_000, 1));
        try (HubClient client = client()) {
            Path file = client.downloadFile(REPO, "model.safetensors", "main");
            assertArrayEquals(WEIGHTS, Files.readAllBytes(file));
        }
        List<FakeHub.Request> ranged =
                hub.requests(r -> r.method().equals("GET") && r.header("Range") != null);
        assertEquals(1, ranged.size());
        assertEquals("bytes=100000-", ranged.getFirst().header("Range"));
    }

    @Test
    void wrongBytesNeverEnterTheCache() throws IOException {
        hub.fault(Fault.corrupt("model.safetensors", -1));
        try (HubClient client = client()) {
            HubException e =
                    assertThrows(
                            HubException.class,
                            () -> client.downloadFile(REPO, "model.safetensors", "main"));
            assertEquals(HubError.Corrupted, e.kind());
            assertTrue(e.getMessage().contains("sha256"), e.getMessage());
        }
        try (var blobs = Files.list(cache.resolve("models--org--tiny/blobs"))) {
            assertEquals(List.of(), blobs.toList());
        }
        assertFalse(
                Files.exists(
                        cache.resolve(
                                "models--org--tiny/snapshots/" + commit + "/model.safetensors")));
    }

    @Test
    void errorCodesBecomeTypedErrorsAndEntryNotFoundWritesNoExist() {
        try (HubClient client = client()) {
            assertEquals(
                    HubError.RepoNotFound,
                    assertThrows(
                                    HubException.class,
                                    () ->
                                            client.downloadFile(
                                                    HubRepo.model("org/absent"),
                                                    "config.json",
                                                    "main"))
                            .kind());
            assertEquals(
                    HubError.RevisionNotFound,
                    assertThrows(
                                    HubException.class,
                                    () -> client.downloadFile(REPO, "config.json", "nope"))
                            .kind());
            assertEquals(
                    HubError.EntryNotFound,
                    assertThrows(
                                    HubException.class,
                                    () -> client.downloadFile(REPO, "missing.bin", "main"))
                            .kind());
            assertTrue(
                    Files.exists(
                            cache.resolve(
                                    "models--org--tiny/.no_exist/" + commit + "/missing.bin")));
            assertEquals(
                    new CacheLookup.KnownMissing(commit),
                    client.tryLoadFromCache(REPO, "missing.bin", "main"));
            hub.repo(RepoType.MODEL, "org/tiny").gated("Access to model org/tiny is restricted.");
            HubException gated =
                    assertThrows(
                            HubException.class,
                            () -> client.downloadFile(REPO, "config.json", commit));
            assertEquals(HubError.GatedRepo, gated.kind());
            assertTrue(gated.getMessage().contains("token"), gated.getMessage());
        }
    }

    @Test
    void offlineAnswersFromTheCacheOrNamesWhatIsMissing() {
        try (HubClient online = client()) {
            online.downloadFile(REPO, "config.json", "main");
        }
        hub.clearRequests();
        try (HubClient offline = client(b -> b.offline(true))) {
            assertTrue(Files.exists(offline.downloadFile(REPO, "config.json", "main")));
            HubException e =
                    assertThrows(
                            HubException.class,
                            () -> offline.downloadFile(REPO, "model.safetensors", "main"));
            assertEquals(HubError.OfflineMiss, e.kind());
            assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        }
        assertEquals(List.of(), hub.requests());
    }

    @Test
    void refusesPathsThatEscapeTheSnapshot() {
        try (HubClient client = client()) {
            for (String bad :
                    List.of(
                            "../evil",
                            "a/../../evil",
                            "/etc/passwd",
                            "a\\b",
                            "a\0b",
                            "C:evil",
                            "a//b",
                            "")) {
                HubException e =
                        assertThrows(
                                HubException.class,
                                () -> client.downloadFile(REPO, bad, "main"),
                                bad);
                assertEquals(HubError.UnsafePath, e.kind());
            }
            assertEquals(
                    HubError.UnsafePath,
                    assertThrows(
                                    HubException.class,
                                    () -> client.downloadFile(REPO, "config.json", "../../x"))
                            .kind());
        }
        assertEquals(List.of(), hub.requests());
    }

    @Test
    void tokenReachesTheEndpointButNeverTheCdnHost() throws IOException {
        try (FakeHub cdn = FakeHub.start("127.0.0.2")) {
            hub.redirectLfsTo(cdn).requireToken("hf_secret");
            try (HubClient client = client(b -> b.token("hf_secret"))) {
                Path file = client.downloadFile(REPO, "model.safetensors", "main");
                assertArrayEquals(WEIGHTS, Files.readAllBytes(file));
            }
            assertFalse(cdn.requests().isEmpty());
            for (FakeHub.Request r : cdn.requests()) {
                assertNull(r.header("Authorization"), "token leaked to " + r);
            }
            assertTrue(
                    hub.requests().stream()
                            .allMatch(r -> "Bearer hf_secret".equals(r.header("Authorization"))));
        }
    }

    @Test
    void fallsBackToTheNextEndpointAndReportsIt() throws IOException {
        java.util.List<String> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
        DownloadListener listener =
                new DownloadListener() {
                    @Override
                    public void endpointChanged(java.net.URI endpoint, String why) {
                        reports.add(why);
                    }
                };
        try (FakeHub down = FakeHub.start()) {
            java.net.URI dead = down.endpoint();
            down.close(); // connection refused from now on
            try (HubClient client = client(b -> b.endpoints(List.of(dead, hub.endpoint())))) {
                Path file = client.downloadFile(REPO, "config.json", "main", false, listener);
                assertArrayEquals(CONFIG, Files.readAllBytes(file));
            }
            assertEquals(1, reports.size(), reports.toString());
            assertTrue(reports.getFirst().contains(hub.endpoint().toString()), reports.toString());
        }
    }
}
