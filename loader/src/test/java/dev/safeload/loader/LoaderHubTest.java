package dev.safeload.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.RepoType;
import dev.safeload.cache.testing.FakeHub;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.safetensors.DType;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/** Models and adapters by repo id, through the hub cache, from a loopback hub and offline. */
class LoaderHubTest {
    @TempDir Path dir;

    final TinyModels fixtures = new TinyModels(ThreadLocalRandom.current().nextLong());
    FakeHub hub;
    String commit;
    Path cache;

    @BeforeEach
    void publish() throws IOException {
        hub = FakeHub.start();
        Path model = fixtures.model(dir.resolve("src/model"), DType.F16, true);
        Path adapter =
                fixtures.peft(
                        dir.resolve("src/adapter"), 4, 8, List.of("q_proj"), DType.F16, false);
        commit = commitFolder(hub.repo(RepoType.MODEL, "org/tiny"), model);
        commitFolder(hub.repo(RepoType.MODEL, "org/tiny-lora"), adapter);
        cache = dir.resolve("hub");
    }

    private static String commitFolder(FakeHub.Repo repo, Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString();
                byte[] bytes = Files.readAllBytes(f);
                if (name.endsWith(".safetensors")) {
                    repo.lfsFile(name, bytes);
                } else {
                    repo.file(name, bytes);
                }
            }
        }
        repo.file("README.md", "not downloaded by default".getBytes());
        return repo.commit("main");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private ModelLoader loader(boolean offline) {
        HubSettings.Builder settings =
                HubSettings.builder(Map.of()).cacheDir(cache).offline(offline);
        if (!offline) {
            settings.endpoint(hub.endpoint());
        }
        return ModelLoader.builder().hub(settings.build()).build();
    }

    @Test
    void loadsByRepoIdOnlineThenOfflineFromTheCache() {
        Map<String, byte[]> online;
        try (LoadedModel model = loader(false).load("org/tiny")) {
            ResolvedModel source = model.report().source();
            assertEquals(commit, source.commit());
            assertEquals(
                    cache.resolve("models--org--tiny/snapshots/" + commit).toAbsolutePath(),
                    source.localPath().orElseThrow());
            assertTrue(source.downloadedBytes() > 0, "the first load downloads");
            assertEquals(source.downloadedBytes(), model.report().stage(LoadStage.RESOLVE).bytes());
            assertTrue(
                    Files.notExists(source.localPath().orElseThrow().resolve("README.md")),
                    "only weights and configs by default");
            online = LoaderCpuTest.bytesOf(model);
            loader(false).readAdapter("org/tiny-lora");
        }
        hub.close();
        Map<Path, Long> before = tree(cache);
        try (LoadedModel model = loader(true).load("org/tiny")) {
            assertEquals(0, model.report().source().downloadedBytes());
            LoaderCpuTest.assertSameTensors(online, LoaderCpuTest.bytesOf(model), "offline");
            LoraAdapter adapter = loader(true).readAdapter("org/tiny-lora");
            assertEquals(TinyModels.LAYERS, model.adapters().merge(adapter).modules());
        }
        assertEquals(before, tree(cache), "an offline load changes nothing in the cache");
    }

    @Test
    void anUnknownRepoOfflineIsOneErrorAndTheCacheStaysAsItWas() {
        try (LoadedModel model = loader(false).load("org/tiny")) {
            assertTrue(model.tensors().size() > 0);
        }
        Map<Path, Long> before = tree(cache);
        HubException e =
                assertThrows(HubException.class, () -> loader(true).load("org/not-cached"));
        assertEquals(HubError.OfflineMiss, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("org/not-cached"), e.getMessage());
        assertEquals(before, tree(cache));
    }

    /** Every path under {@code root} with its size (folders -1), to compare caches before/after. */
    static Map<Path, Long> tree(Path root) {
        Map<Path, Long> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                out.put(
                        root.relativize(p),
                        Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                                ? Files.size(p)
                                : -1L);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
