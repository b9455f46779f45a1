package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.CacheFixture;
import dev.safeload.cache.testing.HubScanOracle;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

class CacheCleanerTest {
    @TempDir Path tmp;

    private static final byte[] SHARED = "shared config".getBytes(StandardCharsets.UTF_8);
    private static final byte[] OLD = CacheFixture.bytes(3000, 1);
    private static final byte[] NEW = CacheFixture.bytes(4000, 2);
    private static final byte[] DETACHED = CacheFixture.bytes(1500, 3);

    private CacheFixture cache;
    private CacheFixture.Repo bert;
    private String oldCommit;
    private String newCommit;
    private String detachedCommit;

    @BeforeEach
    void build() {
        cache = new CacheFixture(tmp.resolve("hub"));
        bert = cache.repo("model", "google/bert-base");
        oldCommit =
                bert.commit(1).file("config.json", SHARED).lfs("model.bin", OLD).ref("v1").commit();
        newCommit =
                bert.commit(2)
                        .file("config.json", SHARED)
                        .lfs("model.bin", NEW)
                        .ref("main")
                        .commit();
        detachedCommit =
                bert.commit(3).file("config.json", SHARED).lfs("extra.bin", DETACHED).commit();
        cache.repo("model", "google/bert-large")
                .commit(4)
                .lfs("w.bin", CacheFixture.bytes(100, 4))
                .ref("main");
        cache.repo("model", "openai/gpt2")
                .commit(5)
                .lfs("w.bin", CacheFixture.bytes(200, 5))
                .ref("main");
    }

    private CacheReport scan() {
        return CacheScanner.scan(cache.root());
    }

    /** The plan frees what huggingface_hub's delete strategy says the same revisions free. */
    private void assertFreedLikeReference(DeletionPlan plan) {
        if (PythonOracle.available("huggingface_hub")) {
            List<String> commits =
                    plan.revisions().stream().map(r -> r.substring(r.indexOf('@') + 1)).toList();
            assertEquals(HubScanOracle.expectedFreedSize(cache.root(), commits), plan.freedBytes());
        }
    }

    private void assertReferenceAgrees() {
        if (PythonOracle.available("huggingface_hub")) {
            assertEquals(HubScanOracle.reference(cache.root()), HubScanOracle.ours(scan()));
        }
    }

    @Test
    void deletingOneRevisionKeepsBlobsOtherRevisionsUse() {
        DeletionPlan plan = CacheCleaner.planDelete(scan(), List.of("google/bert-base@v1"));
        assertEquals(List.of("model/google/bert-base@" + oldCommit), plan.revisions());
        assertEquals(
                List.of(bert.blob(CacheFixture.sha256(OLD))),
                plan.blobs(),
                "config.json is shared, stays");
        assertEquals(OLD.length, plan.freedBytes());
        assertFreedLikeReference(plan);
        assertEquals(List.of(), plan.execute());

        assertFalse(Files.exists(bert.blob(CacheFixture.sha256(OLD))));
        assertTrue(Files.exists(bert.blob(CacheFixture.gitSha1(SHARED))));
        assertFalse(Files.exists(bert.dir().resolve("refs/v1")));
        assertFalse(Files.exists(bert.dir().resolve("snapshots").resolve(oldCommit)));
        CacheReport after = scan();
        assertEquals(List.of(), after.problems());
        assertEquals(
                2, after.repo(RepoType.MODEL, "google/bert-base").orElseThrow().revisions().size());
        assertReferenceAgrees();
    }

    @Test
    void dryRunReportsFreedBytesAndTouchesNothing() throws IOException {
        long before = scan().sizeOnDisk();
        DeletionPlan plan = CacheCleaner.planDelete(scan(), List.of("google/*"));
        assertEquals(2, plan.repoFolders().size());
        long bertSize = SHARED.length + OLD.length + NEW.length + DETACHED.length;
        assertEquals(bertSize + 100, plan.freedBytes());
        assertFreedLikeReference(plan);
        assertEquals(before, scan().sizeOnDisk(), "planning deletes nothing");
        try (var files = Files.walk(cache.root())) {
            assertTrue(files.anyMatch(p -> p.toString().contains("bert-large")));
        }
    }

    @Test
    void globsSelectRepositoriesAndEveryRevisionRemovesTheFolder() {
        DeletionPlan plan = CacheCleaner.planDelete(scan(), List.of("google/bert-*"));
        assertEquals(4, plan.revisions().size());
        assertEquals(List.of(), plan.execute());
        assertFalse(Files.exists(bert.dir()));
        assertEquals(
                List.of("model/openai/gpt2"),
                scan().repos().stream().map(CachedRepo::cacheId).toList());
        assertReferenceAgrees();
    }

    @Test
    void commitPrefixAndCacheIdSelectARevision() {
        DeletionPlan plan =
                CacheCleaner.planDelete(
                        scan(), List.of("model/google/bert-base@" + newCommit.substring(0, 8)));
        assertEquals(List.of("model/google/bert-base@" + newCommit), plan.revisions());
        assertEquals(List.of(bert.blob(CacheFixture.sha256(NEW))), plan.blobs());
    }

    @Test
    void unmatchedTargetsFailBeforeAnythingIsDeleted() {
        HubException repo =
                assertThrows(
                        HubException.class,
                        () ->
                                CacheCleaner.planDelete(
                                        scan(), List.of("google/bert-base@v1", "llama-*")));
        assertEquals(HubError.RepoNotFound, repo.kind());
        assertTrue(repo.getMessage().contains("llama-*"), repo.getMessage());
        HubException revision =
                assertThrows(
                        HubException.class,
                        () -> CacheCleaner.planDelete(scan(), List.of("google/bert-base@nope")));
        assertEquals(HubError.RevisionNotFound, revision.kind());
        assertTrue(Files.exists(bert.dir().resolve("refs/v1")));
    }

    @Test
    void pruneRemovesOnlyRevisionsNoRefPointsTo() throws IOException {
        DeletionPlan plan = CacheCleaner.planPrune(scan());
        assertEquals(List.of("model/google/bert-base@" + detachedCommit), plan.revisions());
        assertEquals(DETACHED.length, plan.freedBytes());
        assertEquals(List.of(), plan.execute());
        assertFalse(Files.exists(bert.dir().resolve("snapshots").resolve(detachedCommit)));
        assertArrayEquals(
                NEW,
                Files.readAllBytes(
                        bert.dir().resolve("snapshots").resolve(newCommit).resolve("model.bin")));
        assertTrue(CacheCleaner.planPrune(scan()).isEmpty());
        assertReferenceAgrees();
    }

    @Test
    void snapshotFilesWithoutSymlinksGoWithTheirSnapshot() throws IOException {
        // A cache written with HF_HUB_DISABLE_SYMLINKS: the snapshot holds regular files.
        CacheFixture.Repo plain = cache.repo("dataset", "copies");
        String a = plain.commit(7).commit();
        Files.write(plain.dir().resolve("snapshots").resolve(a).resolve("data.csv"), new byte[50]);
        String b = plain.commit(8).ref("main").commit();
        Files.write(plain.dir().resolve("snapshots").resolve(b).resolve("data.csv"), new byte[60]);
        DeletionPlan plan = CacheCleaner.planPrune(scan());
        assertTrue(plan.revisions().contains("dataset/copies@" + a));
        assertEquals(DETACHED.length + 50, plan.freedBytes());
        assertFreedLikeReference(plan);
        plan.execute();
        assertEquals(60, scan().repo(RepoType.DATASET, "copies").orElseThrow().sizeOnDisk());
        assertReferenceAgrees();
    }
}
