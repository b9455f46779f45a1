package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.RepoType;
import dev.safeload.cache.testing.FakeHub;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code safeload download} in-process against a loopback hub: stdout contract, exit codes. */
class DownloadCommandTest {
    @TempDir Path cache;

    FakeHub hub;
    String commit;

    @BeforeEach
    void start() {
        hub = FakeHub.start();
        commit =
                hub.repo(RepoType.MODEL, "org/cli")
                        .file("config.json", "{}".getBytes(StandardCharsets.UTF_8))
                        .lfsFile("model.safetensors", new byte[4096])
                        .commit("main");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        CliCapture.Outcome o = CliCapture.inProcess(args);
        return new Run(o.status(), o.stdout(), o.stderr());
    }

    @Test
    void printsTheSnapshotFolder() {
        Run r =
                run(
                        "download",
                        "org/cli",
                        "--cache-dir",
                        cache.toString(),
                        "--endpoint",
                        hub.endpoint().toString());
        assertEquals(0, r.exit(), r.err());
        Path snapshot = cache.resolve("models--org--cli/snapshots/" + commit);
        assertEquals(snapshot + System.lineSeparator(), r.out());
        assertTrue(Files.exists(snapshot.resolve("model.safetensors")));
        assertEquals("", r.err(), "no progress bar when stderr is not a terminal");
    }

    @Test
    void printsEachFileAndFailsWithOneLine() {
        Run r =
                run(
                        "download",
                        "org/cli",
                        "config.json",
                        "model.safetensors",
                        "--cache-dir",
                        cache.toString(),
                        "--endpoint",
                        hub.endpoint().toString());
        assertEquals(0, r.exit(), r.err());
        Path snapshot = cache.resolve("models--org--cli/snapshots/" + commit);
        assertEquals(
                snapshot.resolve("config.json")
                        + System.lineSeparator()
                        + snapshot.resolve("model.safetensors")
                        + System.lineSeparator(),
                r.out());

        Run missing =
                run(
                        "download",
                        "org/cli",
                        "nope.bin",
                        "--cache-dir",
                        cache.toString(),
                        "--endpoint",
                        hub.endpoint().toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().startsWith("EntryNotFound: "), missing.err());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());

        Run offline = run("download", "org/other", "--offline", "--cache-dir", cache.toString());
        assertEquals(1, offline.exit());
        assertTrue(offline.err().startsWith("OfflineMiss: "), offline.err());

        Run usage = run("download", "org/cli", "--repo-type", "bogus");
        assertEquals(2, usage.exit());
    }
}
