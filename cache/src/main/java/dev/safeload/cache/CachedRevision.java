package dev.safeload.cache;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One snapshot folder of a cached repository ({@code snapshots/<commit>}), as huggingface_hub's
 * {@code CachedRevisionInfo} describes it.
 *
 * @param commit the snapshot folder's name (not validated as hex, as in the reference)
 * @param snapshotPath the snapshot folder
 * @param files its files, sorted by path
 * @param refs the refs pointing at it, relative to {@code refs/} ({@code main}, {@code refs/pr/1})
 * @param sizeOnDisk the sizes of the distinct blobs its files point at, each counted once
 * @param lastModified the newest blob modification time, or the folder's when it is empty
 */
public record CachedRevision(
        String commit,
        Path snapshotPath,
        List<CachedFile> files,
        SortedSet<String> refs,
        long sizeOnDisk,
        Instant lastModified) {
    public CachedRevision {
        Objects.requireNonNull(commit, "commit");
        Objects.requireNonNull(snapshotPath, "snapshotPath");
        files = List.copyOf(files);
        refs = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(refs));
        Objects.requireNonNull(lastModified, "lastModified");
    }

    /** How many files the snapshot holds. */
    public int fileCount() {
        return files.size();
    }

    /**
     * Whether no ref points at this revision (a "detached" revision that {@code prune} removes).
     */
    public boolean detached() {
        return refs.isEmpty();
    }
}
