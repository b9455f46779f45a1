package dev.safeload.cache.testing;

import dev.safeload.cache.RepoType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Serves folders as hub repos from a {@link FakeHub} until killed, for benchmarks and manual
 * checks: {@code FakeHubMain DATA_DIR ENDPOINT_FILE [BYTES_PER_SECOND]}. Each {@code
 * DATA_DIR/<org>/<name>/} becomes the model repo {@code org/name} at {@code main}; {@code
 * .safetensors} files and files over 10 MB are LFS files. The endpoint URL is written to {@code
 * ENDPOINT_FILE} once everything is hashed. {@code BYTES_PER_SECOND}, when given, caps every
 * connection's body at that rate ({@link FakeHub#bandwidthPerConnection}), as a CDN that throttles
 * each connection would.
 */
public final class FakeHubMain {
    private FakeHubMain() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        Path data = Path.of(args[0]);
        FakeHub hub = FakeHub.start();
        if (args.length > 2) {
            hub.bandwidthPerConnection(Long.parseLong(args[2]));
        }
        try (Stream<Path> orgs = Files.list(data)) {
            for (Path org : orgs.sorted().toList()) {
                try (Stream<Path> names = Files.list(org)) {
                    for (Path repoDir : names.sorted().toList()) {
                        addRepo(hub, org.getFileName() + "/" + repoDir.getFileName(), repoDir);
                    }
                }
            }
        }
        Path endpointFile = Path.of(args[1]);
        Path temp = endpointFile.resolveSibling(endpointFile.getFileName() + ".tmp");
        Files.writeString(temp, hub.endpoint().toString());
        Files.move(temp, endpointFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Thread.currentThread().join();
    }

    private static void addRepo(FakeHub hub, String id, Path dir) throws IOException {
        FakeHub.Repo repo = hub.repo(RepoType.MODEL, id);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path file : files) {
            String path = dir.relativize(file).toString().replace('\\', '/');
            if (path.endsWith(".safetensors") || Files.size(file) > 10_000_000) {
                repo.lfsFile(path, file);
            } else {
                repo.file(path, Files.readAllBytes(file));
            }
        }
        repo.commit("main");
    }
}
