package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.CacheScanner;
import dev.safeload.cache.testing.CacheFixture;
import dev.safeload.cache.testing.HubScanOracle;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

class PruneCommandTest {
    @TempDir Path tmp;

    @Test
    void removesDetachedRevisionsOnly() {
        CacheFixture cache = new CacheFixture(tmp.resolve("hub"));
        CacheFixture.Repo repo = cache.repo("model", "org/m");
        String old = repo.commit(1).lfs("w.bin", CacheFixture.bytes(4000, 1)).commit();
        String current =
                repo.commit(2).lfs("w.bin", CacheFixture.bytes(5000, 2)).ref("main").commit();
        String orphanRepo = cache.repo("dataset", "gone").commit(3).file("x", new byte[7]).commit();

        CliCapture.Outcome dry =
                CliCapture.inProcess("prune", "--cache-dir", cache.root().toString(), "--dry-run");
        assertEquals(0, dry.status(), dry.toString());
        assertTrue(dry.stdout().contains("model/org/m@" + old), dry.stdout());
        assertTrue(dry.stdout().contains("dataset/gone@" + orphanRepo), dry.stdout());
        assertTrue(dry.stdout().contains("would free 4007 bytes"), dry.stdout());
        assertTrue(Files.exists(repo.dir().resolve("snapshots").resolve(old)));

        CliCapture.Outcome r =
                CliCapture.inProcess("prune", "--cache-dir", cache.root().toString());
        assertEquals(0, r.status(), r.toString());
        assertFalse(Files.exists(repo.dir().resolve("snapshots").resolve(old)));
        assertTrue(Files.exists(repo.dir().resolve("snapshots").resolve(current)));
        assertFalse(Files.exists(cache.repo("dataset", "gone").dir()));
        assertEquals(
                "Nothing to delete.\n",
                CliCapture.inProcess("prune", "--cache-dir", cache.root().toString())
                        .stdout()
                        .replace("\r", ""));
        if (PythonOracle.available("huggingface_hub")) {
            assertEquals(
                    HubScanOracle.reference(cache.root()),
                    HubScanOracle.ours(CacheScanner.scan(cache.root())));
        }
    }
}
