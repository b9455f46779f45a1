package dev.safeload.cache;

import dev.safeload.cache.internal.BlobLinker;
import dev.safeload.cache.internal.ScanWalker;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Hard-links identical blobs across one or more hub caches on one filesystem, so that a model
 * cached by several users, containers or tools takes its space once. Blob names are content hashes;
 * every copy is rehashed before it is linked, so corrupt copies are left alone (and reported)
 * instead of being spread. Each replacement is atomic (a link to a temporary name in the same
 * folder, then a rename over the old copy), so a reader sees either the old or the new file, both
 * complete, and no blob path is ever missing. Copies on different filesystems are skipped with a
 * message.
 */
public final class CacheDeduper {
    private CacheDeduper() {}

    /**
     * Links identical blobs of the caches at {@code roots} (one cache, or several on one file
     * system).
     *
     * @param roots hub cache roots; the same cache named twice is deduplicated once
     * @return what was examined and linked, the bytes freed, and the copies left alone with why
     * @throws HubException {@link HubError#CacheNotFound} when a root does not exist or is not a
     *     folder
     */
    public static DedupeReport dedupe(List<Path> roots) {
        List<Path> dirs = new ArrayList<>();
        for (Path root : roots) {
            Path dir = ScanWalker.realRoot(root);
            if (!dirs.contains(dir)) {
                dirs.add(dir);
            }
        }
        List<Path> blobs = new ArrayList<>();
        for (Path dir : dirs) {
            for (Path repo : CacheVerifier.repoFolders(dir)) {
                blobs.addAll(CacheVerifier.blobs(repo.resolve("blobs")));
            }
        }
        return new BlobLinker(blobs).run();
    }
}
