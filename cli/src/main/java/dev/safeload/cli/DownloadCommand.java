package dev.safeload.cli;

import dev.safeload.cache.HubClient;
import dev.safeload.cache.HubRepo;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
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

    @Mixin DownloadOptions download;

    @Override
    public Integer call() {
        HubRepo hubRepo = new HubRepo(download.repoType, repo);
        DownloadProgress progress = DownloadProgress.on(System.err);
        PrintStream out = System.out;
        try (HubClient client = new HubClient(download.settings())) {
            if (files.isEmpty()) {
                Path snapshot =
                        client.snapshotDownload(
                                hubRepo,
                                download.revision,
                                download.snapshot(progress.listener(), List.of()));
                progress.finish();
                out.println(snapshot);
            } else {
                List<Path> paths = new ArrayList<>();
                for (String file : files) {
                    paths.add(
                            client.downloadFile(
                                    hubRepo,
                                    file,
                                    download.revision,
                                    download.force,
                                    progress.listener()));
                }
                progress.finish();
                paths.forEach(out::println);
            }
        } finally {
            progress.finish();
        }
        return 0;
    }
}
