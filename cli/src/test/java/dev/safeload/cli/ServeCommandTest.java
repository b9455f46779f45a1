package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.HubClient;
import dev.safeload.cache.HubRepo;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.RepoType;
import dev.safeload.cache.SnapshotOptions;
import dev.safeload.cache.testing.CacheFixture;
import dev.safeload.cache.testing.FakeHub;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code safeload serve} as a real process, used by our downloader and by huggingface_hub. */
class ServeCommandTest {
    @TempDir Path tmp;

    private static final Pattern FIRST_LINE =
            Pattern.compile("serving (.+) at (http://127\\.0\\.0\\.1:(\\d+))");

    @Test
    void servesACacheToOurClientAndToHuggingfaceHub() throws Exception {
        byte[] weights = CacheFixture.bytes(500_000, 3);
        byte[] config = "{\"a\": 1}".getBytes(StandardCharsets.UTF_8);
        CacheFixture source = new CacheFixture(tmp.resolve("source"));
        String commit =
                source.repo("model", "org/served")
                        .commit(1)
                        .file("config.json", config)
                        .lfs("model.safetensors", weights)
                        .ref("main")
                        .commit();

        List<String> command = CliCapture.javaCommand(System.getProperty("java.class.path"));
        command.addAll(List.of("serve", "--cache-dir", source.root().toString(), "--port", "0"));
        Process server = CliCapture.start(command);
        try {
            BufferedReader out =
                    new BufferedReader(
                            new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            Matcher m = FIRST_LINE.matcher(first == null ? "" : first);
            assertTrue(m.matches(), "first stdout line: " + first);
            assertEquals(source.root().toRealPath().toString(), m.group(1));
            URI endpoint = URI.create(m.group(2));

            Path ours = tmp.resolve("ours");
            try (HubClient hub =
                    new HubClient(
                            HubSettings.builder(Map.of())
                                    .cacheDir(ours)
                                    .endpoint(endpoint)
                                    .build())) {
                Path snapshot =
                        hub.snapshotDownload(
                                HubRepo.model("org/served"), "main", SnapshotOptions.defaults());
                assertEquals(
                        ours.resolve("models--org--served/snapshots").resolve(commit), snapshot);
                assertArrayEquals(
                        weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
                assertArrayEquals(config, Files.readAllBytes(snapshot.resolve("config.json")));
            }
            if (PythonOracle.available("huggingface_hub")) {
                Path theirs = tmp.resolve("theirs");
                PythonOracle.run(
                                """
                                from huggingface_hub import hf_hub_download
                                print(hf_hub_download("org/served", "model.safetensors"))
                                """,
                                List.of(),
                                Map.of(
                                        "HF_ENDPOINT",
                                        endpoint.toString(),
                                        "HF_HUB_CACHE",
                                        theirs.toString(),
                                        "HF_HUB_DISABLE_XET",
                                        "1",
                                        "HF_TOKEN",
                                        ""),
                                120)
                        .orThrow();
                assertArrayEquals(
                        weights,
                        Files.readAllBytes(
                                theirs.resolve("models--org--served/snapshots")
                                        .resolve(commit)
                                        .resolve("model.safetensors")));
            }
        } finally {
            server.destroy();
            assertTrue(server.waitFor(20, TimeUnit.SECONDS), "serve stops on SIGTERM");
        }
    }

    @Test
    void upstreamMissesArePulledIntoTheServedCache() throws Exception {
        byte[] weights = CacheFixture.bytes(300_000, 8);
        try (FakeHub upstream = FakeHub.start()) {
            String commit =
                    upstream.repo(RepoType.MODEL, "org/pulled")
                            .lfsFile("model.safetensors", weights)
                            .commit("main");
            Path mirror = tmp.resolve("mirror-cache");
            List<String> command = CliCapture.javaCommand(System.getProperty("java.class.path"));
            command.addAll(
                    List.of(
                            "serve",
                            "--cache-dir",
                            mirror.toString(),
                            "--port",
                            "0",
                            "--upstream",
                            upstream.endpoint().toString()));
            Process server = CliCapture.start(command);
            try {
                String first =
                        new BufferedReader(
                                        new InputStreamReader(
                                                server.getInputStream(), StandardCharsets.UTF_8))
                                .readLine();
                Matcher m = FIRST_LINE.matcher(first == null ? "" : first);
                assertTrue(m.matches(), "first stdout line: " + first);
                try (HubClient hub =
                        new HubClient(
                                HubSettings.builder(Map.of())
                                        .cacheDir(tmp.resolve("client"))
                                        .endpoint(URI.create(m.group(2)))
                                        .build())) {
                    assertArrayEquals(
                            weights,
                            Files.readAllBytes(
                                    hub.downloadFile(
                                            HubRepo.model("org/pulled"),
                                            "model.safetensors",
                                            "main")));
                }
                Path cached =
                        mirror.resolve("models--org--pulled/snapshots")
                                .resolve(commit)
                                .resolve("model.safetensors");
                assertArrayEquals(
                        weights, Files.readAllBytes(cached), "the mirror kept what it pulled");
            } finally {
                server.destroy();
                assertTrue(server.waitFor(20, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void aPortInUseOrAMissingCacheFailsWithOneLine() throws Exception {
        CacheFixture cache = new CacheFixture(tmp.resolve("hub"));
        try (ServerSocket busy =
                new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CliCapture.Outcome r =
                    CliCapture.inProcess(
                            "serve",
                            "--cache-dir",
                            cache.root().toString(),
                            "--port",
                            Integer.toString(busy.getLocalPort()));
            assertEquals(1, r.status());
            assertTrue(r.stderr().startsWith("Io: cannot listen on "), r.stderr());
            assertEquals(1, r.stderr().lines().count(), r.stderr());
        }
        CliCapture.Outcome missing =
                CliCapture.inProcess(
                        "serve", "--cache-dir", tmp.resolve("nope").toString(), "--port", "0");
        assertEquals(1, missing.status());
        assertTrue(missing.stderr().startsWith("CacheNotFound: "), missing.stderr());
    }
}
