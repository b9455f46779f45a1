package dev.safeload.cache.testing;

import dev.safeload.cache.HubClient;
import dev.safeload.cache.HubRepo;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.SnapshotOptions;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A separate JVM that downloads one snapshot: {@code DownloadProcess CACHE ENDPOINT REPO REVISION}.
 * Tests start several at once against one cache, or kill one mid-download; {@link #start} builds
 * the command from this JVM's own java binary and class path.
 */
public final class DownloadProcess {
    private DownloadProcess() {}

    public static void main(String[] args) {
        HubSettings settings =
                HubSettings.builder(Map.of())
                        .cacheDir(Path.of(args[0]))
                        .endpoint(URI.create(args[1]))
                        .retryBackoff(Duration.ofMillis(50))
                        .build();
        try (HubClient client = new HubClient(settings)) {
            Path dir =
                    client.snapshotDownload(
                            HubRepo.model(args[2]),
                            args[3],
                            SnapshotOptions.defaults().withWorkers(4));
            System.out.println(dir);
        }
    }

    /**
     * Starts a child JVM running {@link #main}; {@code shellPrefix} (for example {@code umask
     * 002;}) runs before it.
     */
    public static Process start(
            String shellPrefix, Path cache, URI endpoint, String repo, String revision)
            throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command =
                new ArrayList<>(
                        List.of(
                                java,
                                "-cp",
                                System.getProperty("java.class.path"),
                                DownloadProcess.class.getName(),
                                cache.toString(),
                                endpoint.toString(),
                                repo,
                                revision));
        if (shellPrefix != null) {
            StringBuilder line = new StringBuilder(shellPrefix).append(" exec");
            for (String part : command) {
                line.append(" '").append(part.replace("'", "'\\''")).append('\'');
            }
            command = List.of("/bin/sh", "-c", line.toString());
        }
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }
}
