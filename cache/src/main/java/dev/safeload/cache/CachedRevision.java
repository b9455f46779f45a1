package dev.safeload.cache;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One snapshot folder of a cached repository ({@code snapshots/<commit>}), as huggingface_hub's
 * {@code CachedRevisionInfo} describes it. A value from a {@link CacheScanner} scan.
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
    /** Checks that no component is null and copies the file list and the refs. */
    public CachedRevision {
        Objects.requireNonNull(commit, "commit");
        Objects.requireNonNull(snapshotPath, "snapshotPath");
        files = List.copyOf(files);
        refs = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(refs));
        Objects.requireNonNull(lastModified, "lastModified");
    }

    /** {@return how many files the snapshot holds} */
    public int fileCount() {
        return files.size();
    }

    /**
     * {@return whether no ref points at this revision} Such a "detached" revision is what {@link
     * CacheCleaner#planPrune} removes.
     */
    public boolean detached() {
        return refs.isEmpty();
    }
}
