package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.safeload.cache.internal.RepoGlob;

import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * include/exclude patterns with huggingface_hub's filter_repo_objects semantics (docs/hub.md §3.3).
 */
class RepoGlobTest {
    static final List<String> PATHS =
            List.of(
                    "config.json",
                    "data/x.json",
                    "data/sub/y.json",
                    "model.safetensors",
                    "Model.SAFETENSORS",
                    "onnx/model.onnx",
                    "a[1].txt",
                    "b1.txt");

    static List<String> accepted(List<String> include, List<String> exclude) {
        RepoGlob glob = new RepoGlob(include, exclude);
        return PATHS.stream().filter(glob::accepts).toList();
    }

    @Test
    void starSpansSlashesAndTrailingSlashMeansFolder() {
        assertEquals(
                List.of("config.json", "data/x.json", "data/sub/y.json"),
                accepted(List.of("*.json"), List.of()));
        assertEquals(
                List.of("data/x.json", "data/sub/y.json"),
                accepted(List.of("data/*.json"), List.of()));
        assertEquals(
                List.of("data/x.json", "data/sub/y.json"), accepted(List.of("data/"), List.of()));
        assertEquals(
                List.of("data/x.json", "data/sub/y.json"), accepted(List.of("data\\"), List.of()));
        assertEquals(
                List.of("data/x.json", "data/sub/y.json"), accepted(List.of("data/**"), List.of()));
    }

    @Test
    void caseSensitiveClassesAndExclusionWins() {
        assertEquals(List.of("model.safetensors"), accepted(List.of("*.safetensors"), List.of()));
        assertEquals(List.of("b1.txt"), accepted(List.of("[a-b][0-9].txt"), List.of()));
        assertEquals(List.of("a[1].txt"), accepted(List.of("a[[]1].txt"), List.of()));
        assertEquals(List.of("b1.txt"), accepted(List.of("[!a]?.txt"), List.of()));
        assertEquals(List.of("config.json"), accepted(List.of("*.json"), List.of("data/*")));
        assertEquals(
                List.of(
                        "config.json",
                        "model.safetensors",
                        "Model.SAFETENSORS",
                        "a[1].txt",
                        "b1.txt"),
                accepted(List.of(), List.of("data/", "onnx/*")));
        assertEquals(
                PATHS.stream().filter(p -> !p.equals("config.json")).toList(),
                accepted(List.of(), List.of("config.json")));
    }
}
