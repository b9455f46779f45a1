package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.FakeHub;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One cache for Python and Java: what safeload writes, huggingface_hub reads offline (and its scan
 * finds no problem); what huggingface_hub downloads from the same loopback hub, safeload reads
 * offline.
 */
class HuggingfaceHubInteropTest {
    static final List<String> FILES =
            List.of("config.json", "model.safetensors", "tokenizer/vocab.txt", "a b#c.txt");

    @TempDir Path cache;

    @TempDir Path hfHome;

    FakeHub hub;
    String commit;
    final Map<String, byte[]> contents = new java.util.HashMap<>();

    @BeforeEach
    void start() {
        PythonOracle.assume("huggingface_hub");
        hub = FakeHub.start();
        byte[] weights = new byte[200_000];
        new Random(3).nextBytes(weights);
        contents.put("config.json", "{\"model_type\": \"tiny\"}".getBytes(StandardCharsets.UTF_8));
        contents.put("model.safetensors", weights);
        contents.put("tokenizer/vocab.txt", "a\nb\nc\n".getBytes(StandardCharsets.UTF_8));
        contents.put("a b#c.txt", "odd name".getBytes(StandardCharsets.UTF_8));
        FakeHub.Repo repo = hub.repo(RepoType.MODEL, "org/interop");
        contents.forEach(
                (name, bytes) -> {
                    if (name.endsWith(".safetensors")) {
                        repo.lfsFile(name, bytes);
                    } else {
                        repo.file(name, bytes);
                    }
                });
        commit = repo.commit("main");
        repo.ref("refs/pr/1", commit);
    }

    @AfterEach
    void stop() {
        if (hub != null) {
            hub.close();
        }
    }

    Map<String, String> pythonEnv() {
        return Map.of(
                "HF_HOME",
                hfHome.toString(),
                "HF_HUB_DISABLE_TELEMETRY",
                "1",
                "HF_ENDPOINT",
                hub.endpoint().toString(),
                "HF_HUB_DISABLE_XET",
                "1",
                "HF_HUB_DISABLE_IMPLICIT_TOKEN",
                "1");
    }

    @Test
    void huggingfaceHubReadsOurCacheOffline() {
        try (HubClient client =
                new HubClient(
                        HubSettings.builder(Map.of())
                                .cacheDir(cache)
                                .endpoint(hub.endpoint())
                                .build())) {
            client.snapshotDownload(
                    HubRepo.model("org/interop"), "main", SnapshotOptions.defaults());
            client.downloadFile(HubRepo.model("org/interop"), "config.json", "refs/pr/1");
        }
        String code =
                """
                import sys, hashlib
                from huggingface_hub import hf_hub_download, snapshot_download, scan_cache_dir
                cache, commit = sys.argv[1], sys.argv[2]
                for rev in ("main", commit):
                    for name in sys.argv[3:]:
                        p = hf_hub_download("org/interop", name, revision=rev, cache_dir=cache, local_files_only=True)
                        print(rev == commit, name, hashlib.sha256(open(p, "rb").read()).hexdigest())
                p = hf_hub_download("org/interop", "config.json", revision="refs/pr/1", cache_dir=cache, local_files_only=True)
                print("pr", p.endswith("config.json"))
                print("snapshot", snapshot_download("org/interop", cache_dir=cache, local_files_only=True))
                info = scan_cache_dir(cache)
                print("warnings", len(info.warnings), [str(w) for w in info.warnings])
                repo = next(iter(info.repos))
                print("repo", repo.repo_id, repo.nb_files, repo.size_on_disk, sorted(next(iter(repo.revisions)).refs))
                """;
        List<String> args = new java.util.ArrayList<>(List.of(cache.toString(), commit));
        args.addAll(FILES);
        String out = PythonOracle.run(code, args, pythonEnv(), 300).orThrow().stdout();
        for (String name : FILES) {
            String sha = FakeHub.sha256Hex(contents.get(name));
            assertTrue(out.contains("False " + name + " " + sha), out);
            assertTrue(out.contains("True " + name + " " + sha), out);
        }
        assertTrue(out.contains("pr True"), out);
        assertTrue(
                out.contains(
                        "snapshot " + cache.resolve("models--org--interop/snapshots/" + commit)),
                out);
        assertTrue(out.contains("warnings 0 []"), out);
        long size = contents.values().stream().mapToLong(b -> b.length).sum();
        assertTrue(out.contains("repo org/interop 4 " + size + " ['main', 'refs/pr/1']"), out);
    }

    @Test
    void weReadACacheHuggingfaceHubFilledOffline() throws Exception {
        String code =
                """
                import sys
                from huggingface_hub import snapshot_download, hf_hub_download
                print(snapshot_download("org/interop", cache_dir=sys.argv[1]))
                print(hf_hub_download("org/interop", "config.json", revision="refs/pr/1", cache_dir=sys.argv[1]))
                """;
        String out =
                PythonOracle.run(code, List.of(cache.toString()), pythonEnv(), 300)
                        .orThrow()
                        .stdout();
        assertTrue(
                out.contains(cache.resolve("models--org--interop/snapshots/" + commit).toString()),
                out);
        hub.clearRequests();
        try (HubClient offline =
                new HubClient(
                        HubSettings.builder(Map.of())
                                .cacheDir(cache)
                                .endpoint(hub.endpoint())
                                .offline(true)
                                .build())) {
            HubRepo repo = HubRepo.model("org/interop");
            for (String name : FILES) {
                assertArrayEquals(
                        contents.get(name),
                        Files.readAllBytes(offline.downloadFile(repo, name, "main")),
                        name);
                assertArrayEquals(
                        contents.get(name),
                        Files.readAllBytes(offline.downloadFile(repo, name, commit)),
                        name);
            }
            assertArrayEquals(
                    contents.get("config.json"),
                    Files.readAllBytes(offline.downloadFile(repo, "config.json", "refs/pr/1")));
            Path snapshot = offline.snapshotDownload(repo, "main", SnapshotOptions.defaults());
            assertEquals(cache.resolve("models--org--interop/snapshots/" + commit), snapshot);
            assertEquals(
                    new CacheLookup.Cached(snapshot.resolve("tokenizer/vocab.txt")),
                    offline.tryLoadFromCache(repo, "tokenizer/vocab.txt", "main"));
        }
        assertEquals(List.of(), hub.requests());
    }
}
