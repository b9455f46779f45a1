package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.FakeHub;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * snapshot_download against a real loopback hub: paging, globs, fallbacks, request counts, offline.
 */
class SnapshotDownloadTest {
    static final HubRepo REPO = HubRepo.model("org/many");

    @TempDir Path cache;

    FakeHub hub;
    String commit;
    List<String> names = new ArrayList<>();

    @BeforeEach
    void start() {
        hub = FakeHub.start().treePageSize(7);
        FakeHub.Repo repo = hub.repo(RepoType.MODEL, "org/many");
        for (int i = 0; i < 20; i++) {
            String name =
                    (i % 3 == 0 ? "data/sub/" : i % 3 == 1 ? "data/" : "")
                            + "f"
                            + i
                            + (i % 2 == 0 ? ".json" : ".bin");
            byte[] bytes = ("content " + i).repeat(i * 100 + 1).getBytes(StandardCharsets.UTF_8);
            if (i % 2 == 0) {
                repo.file(name, bytes);
            } else {
                repo.lfsFile(name, bytes);
            }
            names.add(name);
        }
        commit = repo.commit("main");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubClient client(boolean offline) {
        return new HubClient(
                HubSettings.builder(Map.of())
                        .cacheDir(cache)
                        .endpoint(hub.endpoint())
                        .offline(offline)
                        .retryBackoff(Duration.ofMillis(10))
                        .build());
    }

    static List<String> filesUnder(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .map(p -> dir.relativize(p).toString())
                    .sorted()
                    .toList();
        }
    }

    @Test
    void downloadsEveryPageOfTheTreeAndThenCostsNothing() throws IOException {
        AtomicLong bytes = new AtomicLong();
        DownloadListener listener =
                new DownloadListener() {
                    @Override
                    public void bytesReceived(String path, long count) {
                        bytes.addAndGet(count);
                    }
                };
        try (HubClient client = client(false)) {
            Path dir =
                    client.snapshotDownload(
                            REPO, "main", SnapshotOptions.defaults().withListener(listener));
            assertEquals(cache.resolve("models--org--many/snapshots/" + commit), dir);
            assertEquals(new TreeSet<>(names).stream().toList(), filesUnder(dir));
            for (String name : names) {
                assertArrayEquals(
                        hub.repo(RepoType.MODEL, "org/many")
                                .entry(commit, name)
                                .content()
                                .open(0)
                                .readAllBytes(),
                        Files.readAllBytes(dir.resolve(name)));
            }
            assertTrue(
                    hub.requests(r -> r.query() != null && r.query().contains("cursor=")).size()
                            >= 2,
                    "paged");
            assertTrue(bytes.get() > 0);
            assertTrue(Files.exists(cache.resolve("models--org--many/trees/" + commit + ".json")));

            hub.clearRequests();
            client.snapshotDownload(REPO, commit, SnapshotOptions.defaults());
            assertEquals(
                    List.of(), hub.requests(), "a complete snapshot at a commit costs no request");
            client.snapshotDownload(REPO, "main", SnapshotOptions.defaults());
            assertEquals(1, hub.requests().size(), "a branch costs one API call");
        }
    }

    @Test
    void globsFollowHuggingfaceHubSemantics() throws IOException {
        try (HubClient client = client(false)) {
            Path dir =
                    client.snapshotDownload(
                            REPO,
                            "main",
                            SnapshotOptions.defaults().withInclude("data/").withExclude("*.bin"));
            List<String> expected =
                    names.stream()
                            .filter(n -> n.startsWith("data/") && !n.endsWith(".bin"))
                            .sorted()
                            .toList();
            assertEquals(expected, filesUnder(dir));
        }
    }

    @Test
    void fallsBackToSiblingsWhenTheTreeIsRefused() throws IOException {
        hub.refuseTree(true);
        try (HubClient client = client(false)) {
            Path dir =
                    client.snapshotDownload(
                            REPO, "main", SnapshotOptions.defaults().withInclude("*.json"));
            assertEquals(
                    names.stream().filter(n -> n.endsWith(".json")).sorted().toList(),
                    filesUnder(dir));
        }
    }

    @Test
    void offlineReturnsTheCachedSnapshotOrSaysWhatIsMissing() throws IOException {
        try (HubClient offline = client(true)) {
            HubException e =
                    assertThrows(
                            HubException.class,
                            () ->
                                    offline.snapshotDownload(
                                            REPO, "main", SnapshotOptions.defaults()));
            assertEquals(HubError.OfflineMiss, e.kind());
            assertTrue(e.getMessage().contains("refs/main"), e.getMessage());
        }
        try (HubClient online = client(false)) {
            online.snapshotDownload(REPO, "main", SnapshotOptions.defaults());
        }
        String victim = names.get(3);
        Path dir = cache.resolve("models--org--many/snapshots/" + commit);
        Files.delete(dir.resolve(victim));
        hub.clearRequests();
        try (HubClient offline = client(true)) {
            HubException e =
                    assertThrows(
                            HubException.class,
                            () ->
                                    offline.snapshotDownload(
                                            REPO, "main", SnapshotOptions.defaults()));
            assertEquals(HubError.IncompleteSnapshot, e.kind());
            assertTrue(e.getMessage().contains(victim), e.getMessage());
            assertEquals(
                    dir,
                    offline.snapshotDownload(
                            REPO, "main", SnapshotOptions.defaults().withExclude(victim)));
        }
        assertEquals(List.of(), hub.requests());
    }

    @Test
    void refusesAListingThatEscapesTheSnapshot() {
        FakeHub.Repo evil = hub.repo(RepoType.MODEL, "org/evil");
        evil.file("../../../escape.txt", "x".getBytes(StandardCharsets.UTF_8));
        evil.commit("main");
        try (HubClient client = client(false)) {
            HubException e =
                    assertThrows(
                            HubException.class,
                            () ->
                                    client.snapshotDownload(
                                            HubRepo.model("org/evil"),
                                            "main",
                                            SnapshotOptions.defaults()));
            assertEquals(HubError.UnsafePath, e.kind());
        }
        assertFalse(Files.exists(cache.resolve("escape.txt")));
        assertFalse(Files.exists(cache.resolve("models--org--evil/escape.txt")));
    }
}
