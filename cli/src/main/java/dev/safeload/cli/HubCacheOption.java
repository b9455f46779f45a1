package dev.safeload.cli;

import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * {@code --cache-dir DIR}, defaulting to the hub cache huggingface_hub would use: {@code HF_HUB_CACHE},
 * then {@code HUGGINGFACE_HUB_CACHE}, then {@code $HF_HOME/hub}, then
 * {@code $XDG_CACHE_HOME/huggingface/hub}, then {@code ~/.cache/huggingface/hub} (reference/hub.md 4).
 */
final class HubCacheOption {
    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Hub cache folder (default: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub).")
    Path cacheDir;

    Path resolve() {
        return cacheDir != null ? cacheDir : defaultHubCache(System.getenv(), System.getProperty("user.home"));
    }

    static Path defaultHubCache(Map<String, String> env, String home) {
        String hubCache = env.get("HF_HUB_CACHE");
        if (hubCache == null) {
            hubCache = env.get("HUGGINGFACE_HUB_CACHE");
        }
        if (hubCache != null) {
            return expandHome(hubCache, home);
        }
        String hfHome = env.get("HF_HOME");
        if (hfHome == null) {
            String xdg = env.get("XDG_CACHE_HOME");
            hfHome = (xdg != null ? xdg : home + "/.cache") + "/huggingface";
        }
        return expandHome(hfHome, home).resolve("hub");
    }

    private static Path expandHome(String path, String home) {
        if (path.equals("~") || path.startsWith("~/")) {
            return Path.of(home + path.substring(1));
        }
        return Path.of(path);
    }
}
