package dev.safeload.cli;

import dev.safeload.cache.DownloadListener;
import dev.safeload.cache.HubClient;
import dev.safeload.cache.HubRepo;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.RepoType;
import dev.safeload.cache.SnapshotOptions;
import dev.safeload.cache.TerminalProgressBar;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code safeload download}: fills the hub cache the way {@code hf download} does and prints the
 * snapshot folder, or each requested file's path, one per line on stdout (docs/CLI.md). Progress
 * goes to stderr, and only when stderr is a terminal, so scripts read clean output.
 */
@Command(
        name = "download",
        mixinStandardHelpOptions = true,
        description = {
            "Download a repo snapshot or some of its files into the Hugging Face hub cache.",
            "Prints the snapshot folder, or each FILE's path. Honours HF_ENDPOINT, HF_HOME,"
                    + " HF_HUB_CACHE,",
            "HF_HUB_OFFLINE and HF_TOKEN as huggingface_hub does; options win over them."
        })
final class DownloadCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "REPO", description = "Repo id: name or org/name.")
    String repo;

    @Parameters(
            index = "1..*",
            paramLabel = "FILE",
            description = "Files to download (default: the whole snapshot).")
    List<String> files = new ArrayList<>();

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

    @Option(
            names = "--cache-dir",
            paramLabel = "DIR",
            description = "Hub cache folder (default: HF_HUB_CACHE, else $HF_HOME/hub).")
    Path cacheDir;

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

    @Override
    public Integer call() {
        HubSettings.Builder settings = HubSettings.builder();
        if (connections != null) {
            settings.connectionsPerFile(connections);
        }
        if (cacheDir != null) {
            settings.cacheDir(cacheDir);
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
        HubRepo hubRepo = new HubRepo(repoType, repo);
        TerminalProgressBar bar = showProgress() ? new TerminalProgressBar(System.err) : null;
        DownloadListener listener = bar != null ? bar : new EndpointNotices();
        PrintStream out = System.out;
        try (HubClient client = new HubClient(settings.build())) {
            if (files.isEmpty()) {
                SnapshotOptions options =
                        new SnapshotOptions(include, exclude, workers, force, listener);
                Path snapshot = client.snapshotDownload(hubRepo, revision, options);
                finish(bar);
                out.println(snapshot);
            } else {
                List<Path> paths = new ArrayList<>();
                for (String file : files) {
                    paths.add(client.downloadFile(hubRepo, file, revision, force, listener));
                }
                finish(bar);
                paths.forEach(out::println);
            }
        } finally {
            finish(bar);
        }
        return 0;
    }

    private static void finish(TerminalProgressBar bar) {
        if (bar != null) {
            bar.finish();
        }
    }

    /** A progress bar only for a person watching: the JVM's console is a terminal. */
    private static boolean showProgress() {
        java.io.Console console = System.console();
        String disabled = System.getenv("HF_HUB_DISABLE_PROGRESS_BARS");
        return console != null
                && console.isTerminal()
                && (disabled == null
                        || !List.of("1", "ON", "YES", "TRUE")
                                .contains(disabled.strip().toUpperCase(java.util.Locale.ROOT)));
    }

    /** Without a progress bar, a change of endpoint is still reported: one line on stderr. */
    private static final class EndpointNotices implements DownloadListener {
        @Override
        public void endpointChanged(URI endpoint, String why) {
            System.err.println("safeload: " + why);
        }
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
