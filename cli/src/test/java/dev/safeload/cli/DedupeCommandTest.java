package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.CacheFixture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

class DedupeCommandTest {
    @TempDir Path tmp;

    @Test
    void linksIdenticalBlobsOfTwoCaches() throws Exception {
        byte[] weights = CacheFixture.bytes(100_000, 9);
        CacheFixture a = new CacheFixture(tmp.resolve("alice"));
        CacheFixture b = new CacheFixture(tmp.resolve("bob"));
        a.repo("model", "org/m").commit(1).lfs("w.safetensors", weights).ref("main");
        b.repo("model", "org/m").commit(1).lfs("w.safetensors", weights).ref("main");
        Path blobA = a.repo("model", "org/m").blob(CacheFixture.sha256(weights));
        Path blobB = b.repo("model", "org/m").blob(CacheFixture.sha256(weights));

        CliCapture.Outcome r =
                CliCapture.inProcess("dedupe", a.root().toString(), b.root().toString());
        assertEquals(0, r.status(), r.toString());
        assertTrue(
                r.stdout().contains("Examined 2 blob(s); linked 1; freed 100000 bytes (100.0K)."),
                r.stdout());
        assertTrue(Files.isSameFile(blobA, blobB));
        assertEquals(Files.getAttribute(blobA, "unix:ino"), Files.getAttribute(blobB, "unix:ino"));
        assertArrayEquals(
                weights,
                Files.readAllBytes(
                        b.repo("model", "org/m")
                                .dir()
                                .resolve("snapshots")
                                .resolve(b.repo("model", "org/m").commit(1).commit())
                                .resolve("w.safetensors")));

        assertEquals(2, CliCapture.inProcess("dedupe").status(), "at least one folder is required");
        CliCapture.Outcome missing = CliCapture.inProcess("dedupe", tmp.resolve("nope").toString());
        assertEquals(1, missing.status());
        assertTrue(missing.stderr().startsWith("CacheNotFound: "), missing.stderr());
    }
}
