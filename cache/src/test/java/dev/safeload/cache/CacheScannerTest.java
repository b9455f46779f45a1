package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.CacheFixture;
import dev.safeload.cache.testing.HubScanOracle;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

class CacheScannerTest {
    @TempDir Path tmp;

    private static final byte[] CONFIG = "{\"hidden\": 8}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] WEIGHTS = CacheFixture.bytes(5000, 1);
    private static final byte[] WEIGHTS_V2 = CacheFixture.bytes(7000, 2);

    /**
     * Two revisions sharing config.json: the repo counts that blob once, each revision counts it.
     */
    private CacheFixture twoRevisions() {
        CacheFixture cache = new CacheFixture(tmp.resolve("hub"));
        CacheFixture.Repo repo = cache.repo("model", "org/bert-base");
        repo.commit(1).file("config.json", CONFIG).lfs("model.safetensors", WEIGHTS).ref("v1");
        repo.commit(2)
                .file("config.json", CONFIG)
                .lfs("model.safetensors", WEIGHTS_V2)
                .file("sub/dir/notes.txt", "x".getBytes(StandardCharsets.UTF_8))
                .ref("main")
                .ref("refs/pr/1");
        cache.repo("dataset", "squad")
                .commit(3)
                .file("data.csv", "a,b\n".getBytes(StandardCharsets.UTF_8))
                .ref("main");
        return cache;
    }

    @Test
    void sizesCountEachBlobOncePerRepoAndRefsNest() {
        CacheFixture cache = twoRevisions();
        CacheReport report = CacheScanner.scan(cache.root());
        assertEquals(List.of(), report.problems());
        assertEquals(
                List.of("dataset/squad", "model/org/bert-base"),
                report.repos().stream().map(CachedRepo::cacheId).toList());
        CachedRepo bert = report.repo(RepoType.MODEL, "org/bert-base").orElseThrow();
        assertEquals(CONFIG.length + WEIGHTS.length + WEIGHTS_V2.length + 1, bert.sizeOnDisk());
        assertEquals(4, bert.fileCount());
        String c1 = cache.repo("model", "org/bert-base").commit(1).commit();
        String c2 = cache.repo("model", "org/bert-base").commit(2).commit();
        assertEquals(Map.of("main", c2, "refs/pr/1", c2, "v1", c1), bert.refs());
        CachedRevision second =
                bert.revisions().stream()
                        .filter(r -> r.commit().equals(c2))
                        .findFirst()
                        .orElseThrow();
        assertEquals(CONFIG.length + WEIGHTS_V2.length + 1, second.sizeOnDisk());
        assertEquals(
                List.of("config.json", "model.safetensors", "sub/dir/notes.txt"),
                second.files().stream().map(CachedFile::path).toList());
        assertEquals(
                cache.repo("model", "org/bert-base").blob(CacheFixture.sha256(WEIGHTS_V2)),
                second.files().get(1).blobPath());
        assertEquals(report.sizeOnDisk(), report.physicalSizeOnDisk());
        assertEquals(bert.sizeOnDisk() + 4, report.sizeOnDisk());
    }

    @Test
    void ignoredNamesIncompleteFilesAndOrphanBlobsAreNotCounted() throws IOException {
        CacheFixture cache = twoRevisions();
        Files.writeString(
                cache.root().resolve("CACHEDIR.TAG"),
                "Signature: 8a477f597d28d172789f06886806bc55\n");
        Files.createDirectories(cache.root().resolve(".locks/models--org--bert-base"));
        Files.writeString(cache.root().resolve(".DS_Store"), "");
        Path blobs = cache.repo("model", "org/bert-base").dir().resolve("blobs");
        Files.write(blobs.resolve("0".repeat(64) + ".abcd1234.incomplete"), new byte[123]);
        Files.write(blobs.resolve("1".repeat(40)), new byte[999]);
        long before = CacheScanner.scan(twoRevisions().root()).sizeOnDisk();
        CacheReport report = CacheScanner.scan(cache.root());
        assertEquals(List.of(), report.problems());
        assertEquals(before, report.sizeOnDisk());
        assertEquals(1, report.incompleteFiles().size());
        assertEquals(123, report.incompleteSizeOnDisk());
    }

    @Test
    void missingRootIsAnError() {
        HubException e =
                assertThrows(HubException.class, () -> CacheScanner.scan(tmp.resolve("absent")));
        assertEquals(HubError.CacheNotFound, e.kind());
        assertTrue(e.getMessage().contains("absent"), e.getMessage());
    }

    /**
     * Each corruption case of docs/hub.md §5.2, applied to the bert repo: reported, repo dropped.
     */
    private void assertProblem(Consumer<Path> corrupt, String messageStart) {
        assertProblem(corrupt, messageStart, true);
    }

    private void assertProblem(Consumer<Path> corrupt, String messageStart, boolean bertDropped) {
        CacheFixture cache = twoRevisions();
        corrupt.accept(cache.root());
        CacheReport report = CacheScanner.scan(cache.root());
        assertEquals(1, report.problems().size(), report.problems().toString());
        String message = report.problems().getFirst().message();
        assertTrue(message.startsWith(messageStart), message);
        assertEquals(
                !bertDropped,
                report.repos().stream().anyMatch(r -> r.repoId().equals("org/bert-base")));
        assertEquals(
                bertDropped ? 1 : 2,
                report.repos().size(),
                "the healthy repositories are still reported");
        if (PythonOracle.available("huggingface_hub")) {
            var reference =
                    (com.fasterxml.jackson.databind.node.ObjectNode)
                            HubScanOracle.reference(cache.root());
            var ours = (com.fasterxml.jackson.databind.node.ObjectNode) HubScanOracle.ours(report);
            if (messageStart.startsWith("Repo type")) {
                // huggingface_hub 2.x words this one differently (it lists kernels); compare the
                // rest.
                assertTrue(reference.get("warnings").get(0).asText().startsWith(messageStart));
                reference.remove("warnings");
                ours.remove("warnings");
            }
            assertEquals(reference, ours);
        }
    }

    private static Path bert(Path root) {
        return root.resolve("models--org--bert-base");
    }

    private static void io(IoAction action) {
        try {
            action.run();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    @Test
    void fileAtRootIsAProblem() {
        assertProblem(
                root -> io(() -> Files.writeString(root.resolve("version.txt"), "1")),
                "Repo path is not a directory: ",
                false);
    }

    @Test
    void folderWithoutDashesIsAProblem() {
        assertProblem(
                root -> io(() -> Files.createDirectories(root.resolve("random"))),
                "Repo path is not a valid HuggingFace cache directory: ",
                false);
    }

    @Test
    void unknownTypeIsAProblem() {
        assertProblem(
                root -> io(() -> Files.createDirectories(root.resolve("widgets--a--b/snapshots"))),
                "Repo type must be",
                false);
    }

    @Test
    void missingSnapshotsIsAProblem() {
        assertProblem(
                root -> io(() -> Files.createDirectories(root.resolve("models--empty"))),
                "Snapshots dir doesn't exist in cached repo: ",
                false);
    }

    @Test
    void refsAsAFileIsAProblem() {
        assertProblem(
                root ->
                        io(
                                () -> {
                                    Files.createDirectories(root.resolve("models--r/snapshots"));
                                    Files.writeString(root.resolve("models--r/refs"), "x");
                                }),
                "Refs directory cannot be a file: ",
                false);
    }

    @Test
    void fileDirectlyUnderSnapshotsIsAProblem() {
        assertProblem(
                root -> io(() -> Files.writeString(bert(root).resolve("snapshots/stray.txt"), "x")),
                "Snapshots folder corrupted. Found a file: ");
    }

    @Test
    void brokenSymlinkIsAProblem() {
        assertProblem(
                root ->
                        io(
                                () ->
                                        Files.delete(
                                                bert(root)
                                                        .resolve("blobs")
                                                        .resolve(CacheFixture.sha256(WEIGHTS)))),
                "Blob missing (broken symlink): ");
    }

    @Test
    void refToMissingCommitIsAProblem() {
        assertProblem(
                root ->
                        io(
                                () ->
                                        Files.writeString(
                                                bert(root).resolve("refs/dangling"),
                                                "f".repeat(40))),
                "Reference(s) refer to missing commit hashes:"
                        + " {'ffffffffffffffffffffffffffffffffffffffff': {'dangling'}}");
    }

    @Test
    void trailingNewlineInRefIsAProblemAsInTheReference() {
        assertProblem(
                root ->
                        io(
                                () -> {
                                    Path ref = bert(root).resolve("refs/main");
                                    Files.writeString(ref, Files.readString(ref) + "\n");
                                }),
                "Reference(s) refer to missing commit hashes: {'");
    }

    @Test
    void agreesWithHuggingfaceHubOnAHealthyCache() throws IOException {
        PythonOracle.assume("huggingface_hub");
        CacheFixture cache = twoRevisions();
        Files.createDirectories(cache.repo("space", "org/demo").commit(9).snapshot());
        assertEquals(
                HubScanOracle.reference(cache.root()),
                HubScanOracle.ours(CacheScanner.scan(cache.root())));
    }
}
