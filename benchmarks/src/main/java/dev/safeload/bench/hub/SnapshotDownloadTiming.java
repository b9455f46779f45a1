package dev.safeload.bench.hub;

import dev.safeload.cache.HubClient;
import dev.safeload.cache.HubRepo;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.SnapshotOptions;

import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Times one snapshot download inside a started JVM (benchmarks/hub/run.sh times the whole CLI, JVM
 * start included; this separates the download itself): {@code SnapshotDownloadTiming ENDPOINT REPO
 * CACHE_DIR [WORKERS]}. Prints seconds and MB/s.
 */
public final class SnapshotDownloadTiming {
    private SnapshotDownloadTiming() {}

    public static void main(String[] args) {
        HubSettings settings =
                HubSettings.builder()
                        .endpoint(URI.create(args[0]))
                        .cacheDir(Path.of(args[2]))
                        .build();
        int workers = args.length > 3 ? Integer.parseInt(args[3]) : SnapshotOptions.DEFAULT_WORKERS;
        try (HubClient client = new HubClient(settings)) {
            long start = System.nanoTime();
            Path dir =
                    client.snapshotDownload(
                            HubRepo.model(args[1]),
                            "main",
                            SnapshotOptions.defaults().withWorkers(workers));
            double seconds = (System.nanoTime() - start) / 1e9;
            long bytes = sizeOf(dir);
            System.out.printf(
                    Locale.ROOT,
                    "%.3f s %d bytes %.0f MB/s%n",
                    seconds,
                    bytes,
                    bytes / seconds / 1e6);
        }
    }

    private static long sizeOf(Path dir) {
        try (var files = java.nio.file.Files.walk(dir)) {
            return files.filter(java.nio.file.Files::isRegularFile)
                    .mapToLong(p -> p.toFile().length())
                    .sum();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
