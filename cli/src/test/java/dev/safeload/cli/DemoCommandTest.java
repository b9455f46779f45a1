package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.safetensors.SafetensorsModel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

class DemoCommandTest {
    @Test
    void demoRunsTheWholePathOfflineAndAgainFromAFilledCache(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("hub");
        String first = runDemo("--cache-dir", cache.toString(), "--device", "cpu");
        assertTrue(first.contains("demo      : ok"), first);
        // The cache now holds a snapshot huggingface_hub's layout: refs/main, snapshots, blobs.
        Path repo = cache.resolve("models--safeload--tiny-llama-demo");
        String commit = Files.readString(repo.resolve("refs/main"));
        assertTrue(commit.matches("[0-9a-f]{40}"), commit);
        try (SafetensorsModel model =
                SafetensorsModel.open(repo.resolve("snapshots").resolve(commit))) {
            assertEquals(2, model.files().size());
            assertEquals(4 * 9 + 3, model.tensors().size());
        }
        // A second run over the same cache resolves from it and gives the same commit.
        String second = runDemo("--cache-dir", cache.toString(), "--device", "cpu");
        assertTrue(second.contains("demo      : ok"), second);
        assertTrue(second.contains(commit), second);
        try (Stream<Path> blobs = Files.list(repo.resolve("blobs"))) {
            assertEquals(4, blobs.count(), "two shards, the index and config.json, stored once");
        }
    }

    @Test
    void unknownDeviceIsAUsageError() {
        assertEquals(SafeloadCli.EXIT_USAGE, SafeloadCli.run("demo", "--device", "tpu"));
    }

    private static String runDemo(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "demo";
        System.arraycopy(args, 0, all, 1, args.length);
        CliCapture.Outcome o = CliCapture.inProcess(all);
        assertEquals(0, o.status(), o.toString());
        return o.stdout();
    }
}
