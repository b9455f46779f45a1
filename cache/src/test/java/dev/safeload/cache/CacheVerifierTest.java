package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.internal.BlobHashes;
import dev.safeload.cache.testing.CacheFixture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

class CacheVerifierTest {
    @TempDir Path tmp;

    @Test
    void hashesMatchTheReferenceTestVectors() throws IOException {
        // docs/hub.md §5.6
        Path hello = Files.writeString(tmp.resolve("hello"), "Hello, World!");
        Path empty = Files.write(tmp.resolve("empty"), new byte[0]);
        assertEquals(
                "b45ef6fec89518d314f546fd6c3025367b721684",
                BlobHashes.hash(hello, BlobHashes.Algorithm.GIT_SHA1));
        assertEquals(
                "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
                BlobHashes.hash(empty, BlobHashes.Algorithm.GIT_SHA1));
        assertEquals(
                "dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f",
                BlobHashes.hash(hello, BlobHashes.Algorithm.SHA256));
    }

    @Test
    void corruptBlobsOfBothKindsAreReported() throws IOException {
        CacheFixture cache = new CacheFixture(tmp.resolve("hub"));
        CacheFixture.Repo repo = cache.repo("model", "org/m");
        byte[] config = "{\"a\": 1}".getBytes(StandardCharsets.UTF_8);
        byte[] weights = CacheFixture.bytes(3 << 20, 7);
        repo.commit(1)
                .file("config.json", config)
                .lfs("model.safetensors", weights)
                .file("README.md", "# m".getBytes(StandardCharsets.UTF_8))
                .ref("main");
        cache.repo("dataset", "d")
                .commit(2)
                .lfs("x.parquet", CacheFixture.bytes(1000, 8))
                .ref("main");
        Files.write(repo.blob("0".repeat(64) + ".1234abcd.incomplete"), new byte[10]);

        List<BlobCheck> clean = CacheVerifier.verify(cache.root(), List.of());
        assertEquals(4, clean.size(), "partial downloads are not blobs");
        assertTrue(clean.stream().allMatch(BlobCheck::ok), clean.toString());

        // One flipped byte in the middle of the LFS blob, one appended byte to the git blob.
        Path lfs = repo.blob(CacheFixture.sha256(weights));
        try (RandomAccessFile f = new RandomAccessFile(lfs.toFile(), "rw")) {
            f.seek(1 << 20);
            int b = f.read();
            f.seek(1 << 20);
            f.write(b ^ 1);
        }
        Path git = repo.blob(CacheFixture.gitSha1(config));
        Files.writeString(git, " ", java.nio.file.StandardOpenOption.APPEND);

        List<BlobCheck> checks = CacheVerifier.verify(cache.root(), List.of("org/*"));
        assertEquals(3, checks.size(), "only the repository asked for");
        List<BlobCheck> bad = checks.stream().filter(c -> !c.ok()).toList();
        assertEquals(
                List.of(git, lfs).stream().sorted().toList(),
                bad.stream().map(BlobCheck::blob).toList());
        BlobCheck badLfs = bad.stream().filter(c -> c.blob().equals(lfs)).findFirst().orElseThrow();
        assertEquals("sha256", badLfs.algorithm());
        assertNull(badLfs.error());
        assertTrue(badLfs.describe().contains("is corrupt"), badLfs.describe());
        assertEquals(
                "git-sha1",
                bad.stream()
                        .filter(c -> c.blob().equals(git))
                        .findFirst()
                        .orElseThrow()
                        .algorithm());
    }

    @Test
    void unknownRepositoryIsAnError() {
        CacheFixture cache = new CacheFixture(tmp.resolve("hub"));
        cache.repo("model", "org/m").commit(1).file("a", new byte[1]).ref("main");
        HubException e =
                assertThrows(
                        HubException.class,
                        () -> CacheVerifier.verify(cache.root(), List.of("nope/*")));
        assertEquals(HubError.RepoNotFound, e.kind());
    }
}
