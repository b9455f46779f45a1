package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.safeload.cache.testing.CacheFixture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

class ScanCommandTest {
    @TempDir Path tmp;

    private CacheFixture cache() {
        CacheFixture cache = new CacheFixture(tmp.resolve("hub"));
        cache.repo("model", "org/bert")
                .commit(1)
                .file("config.json", "{}".getBytes(StandardCharsets.UTF_8))
                .lfs("model.safetensors", CacheFixture.bytes(1197, 1))
                .ref("main")
                .ref("refs/pr/2");
        cache.repo("dataset", "squad").commit(2).file("a.csv", new byte[10]).ref("main");
        return cache;
    }

    @Test
    void jsonListsReposRevisionsRefsSizesAndProblems() throws Exception {
        CacheFixture cache = cache();
        Files.writeString(cache.root().resolve("version.txt"), "1");
        CliCapture.Outcome r =
                CliCapture.inProcess("scan", "--cache-dir", cache.root().toString(), "--json");
        assertEquals(0, r.status(), r.toString());
        JsonNode json = new ObjectMapper().readTree(r.stdout());
        assertEquals(1197 + 2 + 10, json.get("size_on_disk").asLong());
        JsonNode bert = json.get("repos").get(1);
        assertEquals("model/org/bert", bert.get("id").asText());
        assertEquals(1199, bert.get("size_on_disk").asLong());
        assertEquals(2, bert.get("nb_files").asInt());
        String commit = cache.repo("model", "org/bert").commit(1).commit();
        assertEquals(commit, bert.at("/refs/main").asText());
        assertEquals(commit, bert.at("/refs/refs~1pr~12").asText());
        assertEquals(commit, bert.at("/revisions/0/commit_hash").asText());
        assertEquals("model.safetensors", bert.at("/revisions/0/files/1/path").asText());
        assertEquals(1, json.get("problems").size());
        assertTrue(
                json.at("/problems/0/message")
                        .asText()
                        .startsWith("Repo path is not a directory: "));
    }

    @Test
    void tableShowsHumanSizesAndTheProblems() {
        CacheFixture cache = cache();
        CliCapture.Outcome r = CliCapture.inProcess("scan", "--cache-dir", cache.root().toString());
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.stdout().startsWith("ID "), r.stdout());
        assertTrue(r.stdout().contains("model/org/bert"), r.stdout());
        assertTrue(r.stdout().contains("1.2K"), "huggingface_hub's size format: " + r.stdout());
        assertTrue(r.stdout().contains("main, refs/pr/2"), r.stdout());
        assertTrue(
                r.stdout()
                        .contains("Found 2 repo(s) for a total of 2 revision(s) and 1.2K on disk"),
                r.stdout());
    }

    @Test
    void missingCacheFailsWithOneLine() {
        CliCapture.Outcome r =
                CliCapture.inProcess("scan", "--cache-dir", tmp.resolve("absent").toString());
        assertEquals(1, r.status());
        assertEquals(1, r.stderr().lines().count(), r.stderr());
        assertTrue(r.stderr().startsWith("CacheNotFound: Cache directory not found: "), r.stderr());
    }

    @Test
    void cacheDirDefaultsToTheEnvironmentLikeHuggingfaceHub() throws Exception {
        CacheFixture cache = cache();
        ProcessBuilder pb =
                new ProcessBuilder(CliCapture.javaCommand(System.getProperty("java.class.path")));
        pb.command().addAll(java.util.List.of("scan", "--json"));
        pb.environment().remove("HF_HUB_CACHE");
        pb.environment().remove("HUGGINGFACE_HUB_CACHE");
        pb.environment().put("HF_HOME", tmp.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(
                0,
                p.waitFor(),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(
                tmp.resolve("hub").toRealPath().toString(),
                new ObjectMapper().readTree(out).get("cache_dir").asText());
    }
}
