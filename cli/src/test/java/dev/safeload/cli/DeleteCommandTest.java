package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.CacheScanner;
import dev.safeload.cache.testing.CacheFixture;
import dev.safeload.cache.testing.HubScanOracle;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

class DeleteCommandTest {
    @TempDir Path tmp;

    private CacheFixture cache;
    private String v1;
    private static final byte[] SHARED = "tokenizer".getBytes(StandardCharsets.UTF_8);
    private static final byte[] OLD = CacheFixture.bytes(2500, 1);

    @BeforeEach
    void build() {
        cache = new CacheFixture(tmp.resolve("hub"));
        CacheFixture.Repo base = cache.repo("model", "bert-base-uncased");
        v1 = base.commit(1).file("tok.json", SHARED).lfs("w.bin", OLD).ref("v1").commit();
        base.commit(2)
                .file("tok.json", SHARED)
                .lfs("w.bin", CacheFixture.bytes(3000, 2))
                .ref("main");
        cache.repo("model", "bert-large-cased")
                .commit(3)
                .lfs("w.bin", CacheFixture.bytes(700, 3))
                .ref("main");
        cache.repo("model", "gpt2").commit(4).lfs("w.bin", CacheFixture.bytes(900, 4)).ref("main");
    }

    private String[] args(String... targets) {
        String[] out = new String[targets.length + 3];
        out[0] = "delete";
        System.arraycopy(targets, 0, out, 1, targets.length);
        out[targets.length + 1] = "--cache-dir";
        out[targets.length + 2] = cache.root().toString();
        return out;
    }

    @Test
    void dryRunPrintsTheFreedBytesAndKeepsEverything() {
        CliCapture.Outcome r = CliCapture.inProcess(concat(args("bert-*"), "--dry-run"));
        assertEquals(0, r.status(), r.toString());
        long freed = SHARED.length + OLD.length + 3000 + 700;
        assertTrue(
                r.stdout().contains("About to delete 2 repo(s) and 3 revision(s) totalling 6.2K."),
                r.stdout());
        assertTrue(r.stdout().contains("would free " + freed + " bytes"), r.stdout());
        assertTrue(Files.isDirectory(cache.repo("model", "bert-large-cased").dir()));
    }

    @Test
    void deletesARevisionByRefKeepingSharedBlobs() {
        CliCapture.Outcome r = CliCapture.inProcess(args("bert-base-uncased@v1"));
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.stdout().contains("freed " + OLD.length + " bytes"), r.stdout());
        CacheFixture.Repo base = cache.repo("model", "bert-base-uncased");
        assertFalse(Files.exists(base.dir().resolve("snapshots").resolve(v1)));
        assertTrue(Files.exists(base.blob(CacheFixture.gitSha1(SHARED))));
        if (PythonOracle.available("huggingface_hub")) {
            assertEquals(
                    HubScanOracle.reference(cache.root()),
                    HubScanOracle.ours(CacheScanner.scan(cache.root())));
        }
    }

    @Test
    void globDeletesWholeRepositories() {
        CliCapture.Outcome r = CliCapture.inProcess(args("bert-*"));
        assertEquals(0, r.status(), r.toString());
        assertFalse(Files.exists(cache.repo("model", "bert-base-uncased").dir()));
        assertFalse(Files.exists(cache.repo("model", "bert-large-cased").dir()));
        assertTrue(Files.exists(cache.repo("model", "gpt2").dir()));
        if (PythonOracle.available("huggingface_hub")) {
            assertEquals(
                    HubScanOracle.reference(cache.root()),
                    HubScanOracle.ours(CacheScanner.scan(cache.root())));
        }
    }

    @Test
    void aTargetMatchingNothingFailsAndDeletesNothing() {
        CliCapture.Outcome r = CliCapture.inProcess(args("gpt2", "llama-*"));
        assertEquals(1, r.status());
        assertTrue(
                r.stderr().startsWith("RepoNotFound: no cached repository matches 'llama-*'"),
                r.stderr());
        assertTrue(
                Files.exists(cache.repo("model", "gpt2").dir()),
                "nothing deleted when one target is wrong");
        assertEquals(
                2,
                CliCapture.inProcess("delete", "--cache-dir", cache.root().toString()).status(),
                "a target is required");
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
