package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.CacheFixture;
import dev.safeload.cache.testing.HubScanOracle;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The real client against the mirror: huggingface_hub, with {@code HF_ENDPOINT} pointing at our
 * server, downloads files and snapshots into a fresh cache; the bytes equal the source, and our
 * scan of the cache huggingface_hub filled agrees with its own.
 */
class MirrorHuggingfaceHubInteropTest {
    @TempDir Path tmp;

    private static final String CLIENT =
            """
            import os, sys
            from huggingface_hub import hf_hub_download, snapshot_download
            from huggingface_hub.errors import EntryNotFoundError, RevisionNotFoundError, RepositoryNotFoundError
            print("file", hf_hub_download("org/m", "model.safetensors"))
            print("snapshot", snapshot_download("org/m"))
            print("pr", snapshot_download("org/m", revision="refs/pr/1"))
            print("dataset", snapshot_download("squad", repo_type="dataset", allow_patterns=["*.csv"]))
            for call, expected in [
                    (lambda: hf_hub_download("org/m", "absent.bin"), EntryNotFoundError),
                    (lambda: hf_hub_download("org/m", "config.json", revision="v9"), RevisionNotFoundError),
                    (lambda: hf_hub_download("org/absent", "config.json"), RepositoryNotFoundError)]:
                try:
                    call()
                    print("no error")
                except expected as e:
                    print("raised", type(e).__name__)
            """;

    @Test
    void huggingfaceHubDownloadsFromOurServer() throws Exception {
        PythonOracle.assume("huggingface_hub");
        CacheFixture source = new CacheFixture(tmp.resolve("source"));
        byte[] config = "{\"n\": 1}".getBytes(StandardCharsets.UTF_8);
        byte[] weights = CacheFixture.bytes(2 << 20, 5);
        byte[] prWeights = CacheFixture.bytes(4096, 6);
        CacheFixture.Repo repo = source.repo("model", "org/m");
        String main =
                repo.commit(1)
                        .file("config.json", config)
                        .lfs("model.safetensors", weights)
                        .file("tokenizer/vocab.txt", "a\nb\n".getBytes(StandardCharsets.UTF_8))
                        .file("empty.txt", new byte[0])
                        .ref("main")
                        .commit();
        String pr =
                repo.commit(2)
                        .file("config.json", config)
                        .lfs("model.safetensors", prWeights)
                        .ref("refs/pr/1")
                        .commit();
        source.repo("dataset", "squad")
                .commit(3)
                .file("train.csv", "q,a\n".getBytes(StandardCharsets.UTF_8))
                .file("README.md", "# squad".getBytes(StandardCharsets.UTF_8))
                .ref("main");

        Path fresh = tmp.resolve("fresh");
        try (CacheMirrorServer server =
                CacheMirrorServer.start(new CacheMirrorServer.Options(source.root()))) {
            PythonOracle.Result result =
                    PythonOracle.run(
                                    CLIENT,
                                    List.of(),
                                    Map.of(
                                            "HF_ENDPOINT", server.uri().toString(),
                                            "HF_HUB_CACHE", fresh.toString(),
                                            "HF_HUB_DISABLE_XET", "1",
                                            "HF_HUB_DISABLE_TELEMETRY", "1",
                                            "HF_HUB_DISABLE_PROGRESS_BARS", "1",
                                            "HF_TOKEN", ""),
                                    180)
                            .orThrow();
            String out = result.stdout();
            Path freshRepo = fresh.resolve("models--org--m");
            assertTrue(
                    out.contains(
                            "file "
                                    + freshRepo
                                            .resolve("snapshots")
                                            .resolve(main)
                                            .resolve("model.safetensors")),
                    out);
            assertTrue(out.contains("pr " + freshRepo.resolve("snapshots").resolve(pr)), out);
            assertEquals(3, out.lines().filter(l -> l.startsWith("raised ")).count(), out);
            assertTrue(
                    out.contains("raised RemoteEntryNotFoundError")
                            || out.contains("raised EntryNotFoundError"),
                    out);
            assertTrue(out.contains("raised RevisionNotFoundError"), out);
            assertTrue(out.contains("raised RepositoryNotFoundError"), out);
        }

        Path snapshot = fresh.resolve("models--org--m/snapshots").resolve(main);
        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        assertArrayEquals(config, Files.readAllBytes(snapshot.resolve("config.json")));
        assertEquals("a\nb\n", Files.readString(snapshot.resolve("tokenizer/vocab.txt")));
        assertEquals(0, Files.size(snapshot.resolve("empty.txt")));
        assertArrayEquals(
                prWeights,
                Files.readAllBytes(
                        fresh.resolve("models--org--m/snapshots")
                                .resolve(pr)
                                .resolve("model.safetensors")));
        // Same blob names (our etags) and refs as the source; the EntryNotFound was recorded.
        assertTrue(
                Files.isRegularFile(
                        fresh.resolve("models--org--m/blobs")
                                .resolve(CacheFixture.sha256(weights))));
        assertEquals(pr, Files.readString(fresh.resolve("models--org--m/refs/refs/pr/1")));
        assertTrue(
                Files.exists(
                        fresh.resolve("models--org--m/.no_exist")
                                .resolve(main)
                                .resolve("absent.bin")));
        Path dataset = fresh.resolve("datasets--squad/snapshots");
        try (var commits = Files.list(dataset)) {
            Path only = commits.findFirst().orElseThrow();
            assertTrue(Files.exists(only.resolve("train.csv")));
            assertTrue(
                    Files.notExists(only.resolve("README.md")),
                    "allow_patterns filtered the listing");
        }

        CacheReport ours = CacheScanner.scan(fresh);
        assertEquals(List.of(), ours.problems());
        assertEquals(HubScanOracle.reference(fresh), HubScanOracle.ours(ours));
        assertEquals(
                CacheScanner.scan(source.root())
                        .repo(RepoType.MODEL, "org/m")
                        .orElseThrow()
                        .sizeOnDisk(),
                ours.repo(RepoType.MODEL, "org/m").orElseThrow().sizeOnDisk());
    }
}
