package dev.safeload.cache;

import dev.safeload.cache.internal.ScanWalker;

import java.nio.file.Path;

/**
 * Reads what a hub cache holds, the way huggingface_hub's {@code scan_cache_dir} does (docs/hub.md
 * §5.1 and §5.2): the same repositories, revisions, refs and sizes (blobs counted once per
 * repository), and the same list of corruption cases, which come back as {@link CacheProblem}s in
 * the report instead of exceptions. Scanning only reads, so it works on a cache that is read-only
 * to this user.
 *
 * {@snippet :
 * CacheReport report = CacheScanner.scan(Path.of(System.getProperty("user.home"), ".cache/huggingface/hub"));
 * for (CachedRepo repo : report.repos()) {
 *     System.out.println(repo.cacheId() + " " + repo.sizeOnDisk());
 * }
 * report.problems().forEach(System.err::println);
 * }
 */
public final class CacheScanner {
    private CacheScanner() {}

    /**
     * Scans the cache rooted at {@code root}.
     *
     * @param root the hub cache root (the folder holding {@code models--org--name})
     * @return what the cache holds and what is wrong in it
     * @throws HubException {@link HubError#CacheNotFound} when {@code root} does not exist or is
     *     not a folder
     */
    public static CacheReport scan(Path root) {
        return new ScanWalker(root).scan();
    }
}
