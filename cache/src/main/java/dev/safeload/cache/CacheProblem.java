package dev.safeload.cache;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Something wrong found in a cache. For the cases huggingface_hub's {@code scan_cache_dir} knows,
 * the message is its {@code CorruptedCacheException} text (docs/hub.md §5.2), and, as there, the
 * repository concerned is left out of the report.
 *
 * @param path the file or folder at fault
 * @param message what is wrong, naming the path
 */
public record CacheProblem(Path path, String message) {
    /** Checks that the path and message are given. */
    public CacheProblem {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(message, "message");
    }

    /** {@return the message} */
    @Override
    public String toString() {
        return message;
    }
}
