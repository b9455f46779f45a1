package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Environment variables and their precedence, as huggingface_hub's constants.py reads them. */
class HubSettingsTest {
    @TempDir Path home;

    HubSettings settings(Map<String, String> env) {
        java.util.HashMap<String, String> all = new java.util.HashMap<>(env);
        all.putIfAbsent("HOME", home.toString());
        return HubSettings.builder(all).build();
    }

    @Test
    void cacheDirectoryPrecedence() {
        assertEquals(home.resolve(".cache/huggingface/hub"), settings(Map.of()).cacheDir());
        assertEquals(
                Path.of("/x/huggingface/hub"), settings(Map.of("XDG_CACHE_HOME", "/x")).cacheDir());
        assertEquals(
                Path.of("/t"),
                settings(Map.of("XDG_CACHE_HOME", "/x", "TRANSFORMERS_CACHE", "/t")).cacheDir());
        assertEquals(
                Path.of("/h/hub"),
                settings(Map.of("HF_HOME", "/h", "TRANSFORMERS_CACHE", "/t")).cacheDir());
        assertEquals(
                Path.of("/legacy"),
                settings(Map.of("HF_HOME", "/h", "HUGGINGFACE_HUB_CACHE", "/legacy")).cacheDir());
        assertEquals(
                Path.of("/new"),
                settings(
                                Map.of(
                                        "HF_HUB_CACHE",
                                        "/new",
                                        "HUGGINGFACE_HUB_CACHE",
                                        "/legacy",
                                        "HF_HOME",
                                        "/h"))
                        .cacheDir());
        assertEquals(
                home.resolve("c"),
                settings(Map.of("HF_HUB_CACHE", "~/c")).cacheDir(),
                "expanduser");
        assertEquals(
                Path.of("/v/hub"),
                settings(Map.of("HF_HUB_CACHE", "${BASE}/hub", "BASE", "/v")).cacheDir(),
                "expandvars");
        assertEquals(
                Path.of("/api"),
                HubSettings.builder(Map.of("HF_HUB_CACHE", "/new"))
                        .cacheDir(Path.of("/api"))
                        .build()
                        .cacheDir(),
                "the Java API wins");
        assertEquals(
                Path.of("/apihome/hub"),
                HubSettings.builder(Map.of("HF_HUB_CACHE", "/new"))
                        .hfHome(Path.of("/apihome"))
                        .build()
                        .cacheDir());
    }

    @Test
    void endpointsOfflineTimeoutsSymlinks() {
        HubSettings defaults = settings(Map.of());
        assertEquals(List.of(URI.create("https://huggingface.co")), defaults.endpoints());
        assertFalse(defaults.offline());
        assertEquals(Duration.ofSeconds(10), defaults.etagTimeout());
        assertEquals(Duration.ofSeconds(10), defaults.downloadTimeout());
        assertFalse(defaults.symlinksDisabled());

        HubSettings set =
                settings(
                        Map.of(
                                "HF_ENDPOINT",
                                "http://mirror.lan:8080/artifactory/api/hf/",
                                "HF_HUB_OFFLINE",
                                "yes",
                                "HF_HUB_ETAG_TIMEOUT",
                                "86400",
                                "HF_HUB_DOWNLOAD_TIMEOUT",
                                "0",
                                "HF_HUB_DISABLE_SYMLINKS",
                                "ON"));
        assertEquals(
                List.of(URI.create("http://mirror.lan:8080/artifactory/api/hf")), set.endpoints());
        assertTrue(set.offline());
        assertEquals(Duration.ofSeconds(86400), set.etagTimeout());
        assertEquals(Duration.ofSeconds(10), set.downloadTimeout(), "0 means the default");
        assertTrue(set.symlinksDisabled());
        assertTrue(settings(Map.of("TRANSFORMERS_OFFLINE", "1")).offline());
        assertFalse(settings(Map.of("HF_HUB_OFFLINE", "0")).offline());

        assertEquals(
                List.of(URI.create("http://a:1"), URI.create("https://b")),
                settings(
                                Map.of(
                                        "SAFELOAD_HF_ENDPOINTS",
                                        "http://a:1/, https://b",
                                        "HF_ENDPOINT",
                                        "http://c"))
                        .endpoints());
        HubSettings api =
                HubSettings.builder(Map.of("HF_HUB_OFFLINE", "1", "HF_ENDPOINT", "http://c"))
                        .offline(false)
                        .endpoint(URI.create("http://d"))
                        .build();
        assertFalse(api.offline());
        assertEquals(List.of(URI.create("http://d")), api.endpoints());

        HubException bad =
                assertThrows(
                        HubException.class, () -> settings(Map.of("HF_HUB_ETAG_TIMEOUT", "ten")));
        assertEquals(HubError.InvalidSettings, bad.kind());
        assertTrue(bad.getMessage().contains("HF_HUB_ETAG_TIMEOUT"), bad.getMessage());
        assertEquals(
                HubError.InvalidSettings,
                assertThrows(HubException.class, () -> settings(Map.of("HF_ENDPOINT", "ftp://x")))
                        .kind());
    }

    @Test
    void tokenOrderAndCleaning() throws Exception {
        Path hfHome = Files.createDirectories(home.resolve("hf"));
        Files.writeString(hfHome.resolve("token"), "  hf_file\r\n");
        assertEquals("hf_file", settings(Map.of("HF_HOME", hfHome.toString())).token());
        assertEquals(
                "hf_old",
                settings(Map.of("HF_HOME", hfHome.toString(), "HUGGING_FACE_HUB_TOKEN", "hf_old"))
                        .token());
        assertEquals(
                "hf_env",
                settings(
                                Map.of(
                                        "HF_HOME",
                                        hfHome.toString(),
                                        "HF_TOKEN",
                                        " hf_env\n",
                                        "HUGGING_FACE_HUB_TOKEN",
                                        "hf_old"))
                        .token());
        Path elsewhere = Files.writeString(home.resolve("t"), "hf_path");
        assertEquals("hf_path", settings(Map.of("HF_TOKEN_PATH", elsewhere.toString())).token());
        assertNull(
                settings(
                                Map.of(
                                        "HF_HOME",
                                        hfHome.toString(),
                                        "HF_TOKEN",
                                        "hf_env",
                                        "HF_HUB_DISABLE_IMPLICIT_TOKEN",
                                        "1"))
                        .token());
        assertNull(HubSettings.builder(Map.of("HF_TOKEN", "hf_env")).token("").build().token());
        assertEquals(
                "hf_api",
                HubSettings.builder(Map.of("HF_TOKEN", "hf_env")).token("hf_api").build().token());
        assertFalse(
                settings(Map.of("HF_TOKEN", "hf_secret")).toString().contains("hf_secret"),
                "never printed");
    }
}
