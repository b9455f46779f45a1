package dev.safeload.cache;

import java.nio.file.Path;

/** What the cache alone knows about one file (huggingface_hub's {@code try_to_load_from_cache}). */
public sealed interface CacheLookup {
    /** The file is in the cache at {@code path} (inside {@code snapshots/<commit>/}). */
    record Cached(Path path) implements CacheLookup {}

    /** The hub said the file does not exist at {@code commit} ({@code .no_exist} marker). */
    record KnownMissing(String commit) implements CacheLookup {}

    /** The cache cannot answer: the revision or the file was never fetched. */
    record NotCached() implements CacheLookup {}
}
