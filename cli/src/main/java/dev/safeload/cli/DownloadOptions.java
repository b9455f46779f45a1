package dev.safeload.cli;

import dev.safeload.cache.DownloadListener;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.RepoType;
import dev.safeload.cache.SnapshotOptions;

import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * The options of {@code safeload download} that say which revision of a repo to fetch, from where
 * and into which cache: one mixin for every command that downloads ({@code download}, {@code
 * load}), so they are spelled and documented the same way (docs/CLI.md).
 */
final class DownloadOptions {
    @Option(
            names = "--revision",
            paramLabel = "R",
            description = "Branch, tag, refs/pr/N or commit (default: main).")
    String revision = "main";

    @Option(
            names = "--repo-type",
            paramLabel = "TYPE",
            converter = RepoTypeConverter.class,
            description = "model, dataset or space (default: model).")
    RepoType repoType = RepoType.MODEL;

    @Option(
            names = "--include",
            paramLabel = "GLOB",
            description = "Only files matching a glob (repeatable; '*' spans '/').")
    List<String> include = new ArrayList<>();

    @Option(
            names = "--exclude",
            paramLabel = "GLOB",
            description = "Skip files matching a glob (repeatable; wins over --include).")
    List<String> exclude = new ArrayList<>();

    @Mixin HubCacheOption cache;

    @Option(
            names = "--endpoint",
            paramLabel = "URL",
            description =
                    "Hub endpoint or mirror (repeatable: tried in order on failure; default:"
                            + " HF_ENDPOINT).")
    List<URI> endpoints = new ArrayList<>();

    @Option(
            names = "--token",
            paramLabel = "T",
            description = "Access token (default: HF_TOKEN, else the token file).")
    String token;

    @Option(names = "--offline", description = "Answer from the cache only (as HF_HUB_OFFLINE=1).")
    boolean offline;

    @Option(
            names = "--force-download",
            description = "Download again files the cache already holds.")
    boolean force;

    @Option(
            names = "--max-workers",
            paramLabel = "N",
            description = "Files downloaded in parallel (default: 8).")
    int workers = SnapshotOptions.DEFAULT_WORKERS;

    @Option(
            names = "--connections",
            paramLabel = "N",
            description =
                    "Ranged connections that fetch one large file together (default:"
                            + " SAFELOAD_CONNECTIONS_PER_FILE, else 4; 1: one connection per"
                            + " file).")
    Integer connections;

    /** The hub settings: the environment, with what the options set winning over it. */
    HubSettings settings() {
        HubSettings.Builder settings = HubSettings.builder();
        if (cache.cacheDir != null) {
            settings.cacheDir(cache.cacheDir);
        }
        if (!endpoints.isEmpty()) {
            settings.endpoints(endpoints);
        }
        if (token != null) {
            settings.token(token);
        }
        if (offline) {
            settings.offline(true);
        }
        if (connections != null) {
            settings.connectionsPerFile(connections);
        }
        return settings.build();
    }

    /**
     * What a snapshot download fetches: {@code --include} (or {@code defaultInclude} when none is
     * given), {@code --exclude}, the workers and {@code --force-download}.
     */
    SnapshotOptions snapshot(DownloadListener listener, List<String> defaultInclude) {
        return new SnapshotOptions(
                include.isEmpty() ? defaultInclude : include, exclude, workers, force, listener);
    }

    static final class RepoTypeConverter implements CommandLine.ITypeConverter<RepoType> {
        @Override
        public RepoType convert(String value) {
            try {
                return RepoType.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
