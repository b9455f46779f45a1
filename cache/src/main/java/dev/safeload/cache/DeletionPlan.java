package dev.safeload.cache;

import dev.safeload.cache.internal.PathDeleter;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@link CacheCleaner} will remove, worked out before anything is touched so that a dry run
 * can show it; {@link #execute()} carries it out.
 *
 * @param revisions the revisions removed, as {@code model/org/name@commit}
 * @param repoFolders repositories removed whole (every revision of them was selected)
 * @param refs ref files pointing at removed revisions
 * @param snapshots snapshot folders of removed revisions
 * @param blobs blobs that no remaining revision uses
 * @param freedBytes the bytes freed, counted as huggingface_hub's {@code expected_freed_size} does
 */
public record DeletionPlan(
        List<String> revisions,
        List<Path> repoFolders,
        List<Path> refs,
        List<Path> snapshots,
        List<Path> blobs,
        long freedBytes) {
    /** Copies the lists. */
    public DeletionPlan {
        revisions = List.copyOf(revisions);
        repoFolders = List.copyOf(repoFolders);
        refs = List.copyOf(refs);
        snapshots = List.copyOf(snapshots);
        blobs = List.copyOf(blobs);
    }

    /** {@return whether the plan removes nothing} */
    public boolean isEmpty() {
        return revisions.isEmpty();
    }

    /**
     * Removes everything in the plan and returns what could not be removed (one line each). Refs go
     * first, then snapshots, then blobs, so that at every moment a reader of the cache sees refs
     * that name existing snapshots and snapshot links that name existing blobs. A path that is
     * already gone is not a failure; one that cannot be removed does not stop the rest.
     *
     * @return one line per path that could not be removed, naming it and why; empty on success
     */
    public List<String> execute() {
        List<String> failures = new ArrayList<>();
        for (Path ref : refs) {
            PathDeleter.delete(ref, "ref", failures);
        }
        for (Path snapshot : snapshots) {
            PathDeleter.delete(snapshot, "snapshot", failures);
        }
        for (Path blob : blobs) {
            PathDeleter.delete(blob, "blob", failures);
        }
        for (Path repo : repoFolders) {
            PathDeleter.delete(repo, "repo", failures);
        }
        return failures;
    }
}
