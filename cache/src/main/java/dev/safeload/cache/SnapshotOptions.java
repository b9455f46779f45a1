package dev.safeload.cache;

import java.util.List;
import java.util.Objects;

/**
 * What a snapshot download fetches and how.
 *
 * @param include glob patterns with huggingface_hub's {@code allow_patterns} semantics ({@code *}
 *     spans {@code /}; a trailing {@code /} means the whole folder; case-sensitive); empty: every
 *     file
 * @param exclude glob patterns with {@code ignore_patterns} semantics; exclusion wins over
 *     inclusion
 * @param workers files downloaded in parallel (huggingface_hub's {@code max_workers}, default 8)
 * @param forceDownload download again even what the cache already holds
 * @param listener progress callbacks
 */
public record SnapshotOptions(
        List<String> include,
        List<String> exclude,
        int workers,
        boolean forceDownload,
        DownloadListener listener) {
    /** Files downloaded in parallel unless set otherwise: {@value}, as huggingface_hub. */
    public static final int DEFAULT_WORKERS = 8;

    /**
     * Copies the pattern lists.
     *
     * @throws IllegalArgumentException if {@code workers} is below 1
     */
    public SnapshotOptions {
        include = List.copyOf(include);
        exclude = List.copyOf(exclude);
        Objects.requireNonNull(listener, "listener");
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be at least 1, got " + workers);
        }
    }

    /**
     * Every file, 8 workers, no forced download, no listener.
     *
     * @return the default options
     */
    public static SnapshotOptions defaults() {
        return new SnapshotOptions(
                List.of(), List.of(), DEFAULT_WORKERS, false, DownloadListener.NONE);
    }

    /**
     * Only the files matching one of {@code patterns}.
     *
     * @param patterns glob patterns (docs/hub.md §3.3); replace the current ones
     * @return a copy with these include patterns
     */
    public SnapshotOptions withInclude(String... patterns) {
        return new SnapshotOptions(List.of(patterns), exclude, workers, forceDownload, listener);
    }

    /**
     * None of the files matching one of {@code patterns}; exclusion wins over inclusion.
     *
     * @param patterns glob patterns (docs/hub.md §3.3); replace the current ones
     * @return a copy with these exclude patterns
     */
    public SnapshotOptions withExclude(String... patterns) {
        return new SnapshotOptions(include, List.of(patterns), workers, forceDownload, listener);
    }

    /**
     * How many files download at once.
     *
     * @param count at least 1
     * @return a copy with this many workers
     */
    public SnapshotOptions withWorkers(int count) {
        return new SnapshotOptions(include, exclude, count, forceDownload, listener);
    }

    /**
     * Whether to download again what the cache already holds.
     *
     * @param force true to ignore the cache's copies
     * @return a copy with this setting
     */
    public SnapshotOptions withForceDownload(boolean force) {
        return new SnapshotOptions(include, exclude, workers, force, listener);
    }

    /**
     * Where progress goes.
     *
     * @param newListener the callbacks, called from the worker threads
     * @return a copy with this listener
     */
    public SnapshotOptions withListener(DownloadListener newListener) {
        return new SnapshotOptions(include, exclude, workers, forceDownload, newListener);
    }
}
