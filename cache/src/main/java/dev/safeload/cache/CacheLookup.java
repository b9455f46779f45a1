package dev.safeload.cache;

import java.nio.file.Path;

/**
 * What the cache alone knows about one file (huggingface_hub's {@code try_to_load_from_cache}), as
 * returned by {@link HubClient#tryLoadFromCache}. A {@code switch} over the three cases is
 * exhaustive.
 */
public sealed interface CacheLookup {
    /**
     * The file is in the cache.
     *
     * @param path its snapshot entry, inside {@code snapshots/<commit>/}
     */
    record Cached(Path path) implements CacheLookup {}

    /**
     * The hub said the file does not exist at that commit ({@code .no_exist} marker, docs/hub.md
     * §1.5).
     *
     * @param commit the commit the revision named
     */
    record KnownMissing(String commit) implements CacheLookup {}

    /** The cache cannot answer: the revision or the file was never fetched. */
    record NotCached() implements CacheLookup {}
}
