package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.RepoType;
import dev.safeload.cache.testing.FakeHub;
import dev.safeload.cache.testing.Squid;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code safeload download} in a real process reads HF_ENDPOINT, HF_HUB_CACHE, HF_HOME, HF_TOKEN,
 * HF_HUB_OFFLINE and the proxy variables.
 */
class DownloadEnvironmentTest {
    @TempDir Path dir;

    record Result(int exit, String out) {}

    static Result safeload(Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command =
                new java.util.ArrayList<>(
                        List.of(
                                java,
                                "-cp",
                                System.getProperty("java.class.path"),
                                SafeloadCli.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment()
                .keySet()
                .removeIf(
                        k ->
                                k.startsWith("HF_")
                                        || k.startsWith("HUGGING")
                                        || k.toLowerCase(Locale.ROOT).endsWith("_proxy"));
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Result(p.exitValue(), out);
    }

    @Test
    void environmentVariablesSteerTheDownload() throws Exception {
        try (FakeHub hub = FakeHub.start()) {
            String commit =
                    hub.repo(RepoType.MODEL, "org/env")
                            .file("config.json", "{}".getBytes(StandardCharsets.UTF_8))
                            .commit("main");
            hub.requireToken("hf_from_file");
            Path home = Files.createDirectories(dir.resolve("hf-home"));
            Files.writeString(home.resolve("token"), "hf_from_file\n");

            Result r =
                    safeload(
                            Map.of(
                                    "HF_ENDPOINT",
                                    hub.endpoint().toString(),
                                    "HF_HOME",
                                    home.toString()),
                            "download",
                            "org/env",
                            "config.json");
            assertEquals(0, r.exit(), r.out());
            Path expected =
                    home.resolve("hub/models--org--env/snapshots/" + commit + "/config.json");
            assertEquals(expected.toString(), r.out().strip());

            Path other = dir.resolve("other-cache");
            Result cacheVar =
                    safeload(
                            Map.of(
                                    "HF_ENDPOINT",
                                    hub.endpoint().toString(),
                                    "HF_HUB_CACHE",
                                    other.toString(),
                                    "HF_TOKEN",
                                    "hf_from_file"),
                            "download",
                            "org/env");
            assertEquals(0, cacheVar.exit(), cacheVar.out());
            assertEquals(
                    other.resolve("models--org--env/snapshots/" + commit).toString(),
                    cacheVar.out().strip());

            hub.clearRequests();
            Result offline =
                    safeload(
                            Map.of(
                                    "HF_ENDPOINT",
                                    hub.endpoint().toString(),
                                    "HF_HOME",
                                    home.toString(),
                                    "HF_HUB_OFFLINE",
                                    "1"),
                            "download",
                            "org/env",
                            "config.json");
            assertEquals(0, offline.exit(), offline.out());
            assertEquals(expected.toString(), offline.out().strip());
            Result missing =
                    safeload(
                            Map.of("HF_HOME", home.toString(), "HF_HUB_OFFLINE", "1"),
                            "download",
                            "org/env",
                            "absent.bin");
            assertEquals(1, missing.exit(), missing.out());
            assertTrue(missing.out().startsWith("OfflineMiss: "), missing.out());
            assertEquals(List.of(), hub.requests());
        }
    }

    @Test
    void proxyVariablesRouteTheDownloadAndTheirPasswordNeverShows() throws Exception {
        Assumptions.assumeTrue(
                Squid.installed(), "squid is not installed (.ci/run installs it with apt-get)");
        try (FakeHub hub = FakeHub.start();
                Squid proxy = Squid.start("bob", "s3cret-pw")) {
            hub.repo(RepoType.MODEL, "org/env")
                    .file("config.json", "{}".getBytes(StandardCharsets.UTF_8))
                    .commit("main");
            Map<String, String> env =
                    Map.of(
                            "HF_ENDPOINT", hub.endpoint().toString(),
                            "HF_HUB_CACHE", dir.resolve("c").toString(),
                            "http_proxy", proxy.uri("bob", "s3cret-pw"));
            Result ok = safeload(env, "download", "org/env");
            assertEquals(0, ok.exit(), ok.out());
            assertTrue(
                    proxy.awaitLogged(
                            r ->
                                    r.user().equals("bob")
                                            && r.url().startsWith(hub.endpoint().toString())),
                    proxy.log());

            Map<String, String> wrong = new HashMap<>(env);
            wrong.put("http_proxy", proxy.uri("bob", "wrong-pw"));
            wrong.put("HF_HUB_CACHE", dir.resolve("c2").toString());
            Result bad = safeload(wrong, "download", "org/env");
            assertEquals(1, bad.exit(), bad.out());
            assertTrue(bad.out().startsWith("ProxyError: "), bad.out());
            assertEquals(1, bad.out().strip().lines().count(), bad.out());
            assertFalse(bad.out().contains("wrong-pw"), bad.out());

            Result debug = safeload(wrong, "download", "org/env", "--debug");
            assertFalse(debug.out().contains("wrong-pw"), "not even in a stack trace");
        }
    }
}
