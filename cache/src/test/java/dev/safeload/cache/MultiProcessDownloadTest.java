package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.DownloadProcess;
import dev.safeload.cache.testing.FakeHub;
import dev.safeload.cache.testing.FakeHub.Fault;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Real processes sharing one cache: concurrent snapshot downloads, and a kill followed by a resume.
 */
class MultiProcessDownloadTest {
    @TempDir Path cache;

    FakeHub hub;
    FakeHub.Repo repo;
    String commit;
    final List<String> names = new ArrayList<>();

    @BeforeEach
    void start() {
        hub = FakeHub.start();
        repo = hub.repo(RepoType.MODEL, "org/shared");
        Random random = new Random(42);
        for (int i = 0; i < 12; i++) {
            byte[] bytes = new byte[i % 4 == 0 ? 400_000 : 3_000 + i];
            random.nextBytes(bytes);
            String name =
                    (i % 2 == 0 ? "weights/" : "")
                            + "file"
                            + i
                            + (i % 4 == 0 ? ".safetensors" : ".txt");
            if (i % 4 == 0) {
                repo.lfsFile(name, bytes);
            } else {
                repo.file(name, bytes);
            }
            names.add(name);
        }
        commit = repo.commit("main");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    @Test
    void severalProcessesFillOneSnapshotAndEachBlobIsFetchedOnce() throws Exception {
        // Slow bodies make the processes overlap on the same blobs.
        hub.fault(Fault.slow(".safetensors", 2_000_000, -1));
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            processes.add(
                    DownloadProcess.start(
                            "umask 002;", cache, hub.endpoint(), "org/shared", "main"));
        }
        Path snapshot = cache.resolve("models--org--shared/snapshots/" + commit);
        for (Process p : processes) {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child did not finish");
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), output);
            assertTrue(output.strip().endsWith(snapshot.toString()), output);
        }
        for (String name : names) {
            FakeHub.FileEntry entry = repo.entry(commit, name);
            assertArrayEquals(
                    entry.content().open(0).readAllBytes(),
                    Files.readAllBytes(snapshot.resolve(name)),
                    name);
            Path blob = snapshot.resolve(name).toRealPath();
            assertEquals(entry.etag(), blob.getFileName().toString());
            long gets =
                    hub.requests(r -> r.method().equals("GET") && r.path().endsWith("/" + name))
                            .size();
            assertEquals(
                    1,
                    gets,
                    name + " was downloaded " + gets + " times: the blob lock did not hold");
            // umask 002 in the children: a cache shared by a group stays group-writable.
            assertTrue(
                    Files.getPosixFilePermissions(blob).contains(PosixFilePermission.GROUP_WRITE),
                    blob.toString());
        }
        assertTrue(
                Files.getPosixFilePermissions(snapshot).contains(PosixFilePermission.GROUP_WRITE));
        try (Stream<Path> blobs = Files.list(cache.resolve("models--org--shared/blobs"))) {
            assertFalse(
                    blobs.anyMatch(p -> p.toString().endsWith(".incomplete")),
                    "no partial file left");
        }
    }

    @Test
    void aKilledDownloadResumesWithRangeInTheNextProcess() throws Exception {
        byte[] big = new byte[3_000_000];
        new Random(1).nextBytes(big);
        String bigCommit =
                hub.repo(RepoType.MODEL, "org/big")
                        .lfsFile("model.safetensors", big)
                        .commit("main");
        String sha = FakeHub.sha256Hex(big);
        hub.fault(Fault.slow("model.safetensors", 400_000, 1));
        Process child = DownloadProcess.start(null, cache, hub.endpoint(), "org/big", "main");
        Path partial = cache.resolve("models--org--big/blobs/" + sha + ".safeload.incomplete");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!(Files.exists(partial) && Files.size(partial) > 500_000)) {
            assertTrue(child.isAlive(), "child ended before it was killed");
            assertTrue(System.nanoTime() < deadline, "no partial download appeared");
            Thread.sleep(20);
        }
        child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        long kept = Files.size(partial);
        assertTrue(kept > 0 && kept < big.length, "kept " + kept);
        assertFalse(
                Files.exists(cache.resolve("models--org--big/blobs/" + sha)),
                "an unfinished blob is never visible");

        try (HubClient client =
                new HubClient(
                        HubSettings.builder(Map.of())
                                .cacheDir(cache)
                                .endpoint(hub.endpoint())
                                .retryBackoff(Duration.ofMillis(10))
                                .build())) {
            Path file = client.downloadFile(HubRepo.model("org/big"), "model.safetensors", "main");
            assertEquals(
                    cache.resolve("models--org--big/snapshots/" + bigCommit + "/model.safetensors"),
                    file);
            assertArrayEquals(big, Files.readAllBytes(file));
        }
        List<FakeHub.Request> resumed =
                hub.requests(r -> r.method().equals("GET") && r.header("Range") != null);
        assertEquals(1, resumed.size(), hub.requests().toString());
        long from = Long.parseLong(resumed.getFirst().header("Range").replaceAll("\\D", ""));
        assertTrue(
                from >= kept && from > 500_000, "resumed from " + from + " with " + kept + " kept");
        assertFalse(Files.exists(partial));
    }
}
