package dev.safeload.cli;

import dev.safeload.cache.HubSettings;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * {@code --cache-dir DIR}, defaulting to the hub cache huggingface_hub would use ({@link
 * HubSettings}).
 */
final class HubCacheOption {
    @Option(
            names = "--cache-dir",
            paramLabel = "DIR",
            description =
                    "Hub cache folder (default: HF_HUB_CACHE, else HF_HOME/hub, else"
                            + " ~/.cache/huggingface/hub).")
    Path cacheDir;

    Path resolve() {
        return cacheDir != null ? cacheDir : HubSettings.fromEnvironment().cacheDir();
    }
}
