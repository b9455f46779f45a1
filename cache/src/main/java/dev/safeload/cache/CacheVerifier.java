package dev.safeload.cache;

import dev.safeload.cache.internal.BlobHashes;
import dev.safeload.cache.internal.RepoGlob;
import dev.safeload.cache.internal.ScanWalker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Rehashes every blob of a cache against its name: sha256 for 64-hex (LFS) names, the git blob sha1
 * ({@code sha1("blob <len>\0" + bytes)}) for 40-hex names, as {@code hf cache verify} checks files
 * (docs/hub.md §5.6). Every blob in {@code blobs/} is checked, including those no snapshot uses;
 * partial downloads and other names are skipped. Only reads, so a read-only cache verifies.
 */
public final class CacheVerifier {
    private CacheVerifier() {}

    /**
     * Verifies the blobs of the repositories whose id or cache id matches one of {@code repoGlobs}
     * (all repositories when it is empty), hashing as many blobs at once as there are processors.
     *
     * @param root the hub cache root
     * @param repoGlobs repo ids ({@code org/name}) or cache ids ({@code model/org/name}), globs
     *     allowed; empty for every repository
     * @return one check per blob, sorted; {@link BlobCheck#ok()} tells the corrupt ones
     * @throws HubException {@link HubError#RepoNotFound} when a glob matches no repository folder
     */
    public static List<BlobCheck> verify(Path root, List<String> repoGlobs) {
        Path dir = ScanWalker.realRoot(root);
        List<Job> jobs = new ArrayList<>();
        List<String> unmatched = new ArrayList<>(repoGlobs);
        for (Path repo : repoFolders(dir)) {
            String cacheId = cacheId(repo.getFileName().toString());
            String repoId = cacheId.substring(cacheId.indexOf('/') + 1);
            if (!repoGlobs.isEmpty()) {
                List<String> hits =
                        repoGlobs.stream()
                                .filter(
                                        g ->
                                                new RepoGlob(List.of(g), List.of()).accepts(repoId)
                                                        || new RepoGlob(List.of(g), List.of())
                                                                .accepts(cacheId))
                                .toList();
                if (hits.isEmpty()) {
                    continue;
                }
                unmatched.removeAll(hits);
            }
            for (Path blob : blobs(repo.resolve("blobs"))) {
                jobs.add(new Job(cacheId, blob));
            }
        }
        if (!unmatched.isEmpty()) {
            throw new HubException(
                    HubError.RepoNotFound,
                    String.format(
                            Locale.ROOT, "no cached repository matches %s in %s", unmatched, dir));
        }
        return run(jobs);
    }

    private record Job(String cacheId, Path blob) {
        BlobCheck check() {
            BlobHashes.Algorithm algorithm = BlobHashes.algorithmFor(blob.getFileName().toString());
            String name = algorithm == BlobHashes.Algorithm.SHA256 ? "sha256" : "git-sha1";
            long size = -1;
            try {
                size = Files.size(blob);
                return new BlobCheck(
                        cacheId, blob, name, size, BlobHashes.hash(blob, algorithm), null);
            } catch (IOException e) {
                return new BlobCheck(cacheId, blob, name, size, null, e.toString());
            }
        }
    }

    private static List<BlobCheck> run(List<Job> jobs) {
        int threads =
                Math.max(1, Math.min(jobs.size(), Runtime.getRuntime().availableProcessors()));
        try (ExecutorService pool =
                Executors.newFixedThreadPool(threads, Thread.ofPlatform().daemon().factory())) {
            List<Future<BlobCheck>> futures =
                    jobs.stream().map(j -> pool.submit(j::check)).toList();
            List<BlobCheck> checks = new ArrayList<>();
            for (Future<BlobCheck> f : futures) {
                checks.add(f.get());
            }
            checks.sort(Comparator.comparing(BlobCheck::cacheId).thenComparing(BlobCheck::blob));
            return checks;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(
                    HubError.Io, "interrupted while verifying " + jobs.size() + " blobs", e);
        } catch (ExecutionException e) {
            throw new HubException(HubError.Io, "verifying failed: " + e.getCause(), e.getCause());
        }
    }

    /** Folders at the root named {@code {type}s--{id}} with a known type. */
    static List<Path> repoFolders(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory)
                    .filter(p -> cacheId(p.getFileName().toString()) != null)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new HubException(HubError.Io, "Cannot list cache folder " + dir + ": " + e, e);
        }
    }

    /** {@code models--org--name} to {@code model/org/name}, or {@code null} for other names. */
    static String cacheId(String folder) {
        int dashes = folder.indexOf("--");
        if (dashes < 0) {
            return null;
        }
        String prefix = folder.substring(0, dashes);
        for (RepoType type : RepoType.values()) {
            if (prefix.equals(type.id() + "s")) {
                return type.id() + "/" + folder.substring(dashes + 2).replace("--", "/");
            }
        }
        return null;
    }

    /** Regular files in {@code blobs/} whose name is a 40- or 64-hex hash. */
    static List<Path> blobs(Path blobsDir) {
        if (!Files.isDirectory(blobsDir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(blobsDir)) {
            return entries.filter(p -> BlobHashes.algorithmFor(p.getFileName().toString()) != null)
                    .filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new HubException(HubError.Io, "Cannot list " + blobsDir + ": " + e, e);
        }
    }
}
