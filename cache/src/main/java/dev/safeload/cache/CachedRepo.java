package dev.safeload.cache;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One repository folder of a hub cache ({@code models--org--name}), as huggingface_hub's {@code
 * CachedRepoInfo} describes it. A value from a {@link CacheScanner} scan, not a handle: the folder
 * may change after the scan.
 *
 * @param type model, dataset or space
 * @param repoId {@code org/name}
 * @param repoPath the repository folder
 * @param sizeOnDisk the sizes of the distinct blobs any snapshot points at, each counted once;
 *     blobs no snapshot uses and {@code .incomplete} files are not counted (docs/hub.md §5.1)
 * @param fileCount how many distinct blobs the snapshots point at
 * @param revisions the snapshots, sorted by commit
 * @param lastAccessed the newest blob access time, or the folder's when there are no blobs
 * @param lastModified the newest blob modification time, or the folder's when there are no blobs
 */
public record CachedRepo(
        RepoType type,
        String repoId,
        Path repoPath,
        long sizeOnDisk,
        int fileCount,
        List<CachedRevision> revisions,
        Instant lastAccessed,
        Instant lastModified) {
    /** Checks that no component is null and copies the revision list. */
    public CachedRepo {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(repoId, "repoId");
        Objects.requireNonNull(repoPath, "repoPath");
        revisions = List.copyOf(revisions);
        Objects.requireNonNull(lastAccessed, "lastAccessed");
        Objects.requireNonNull(lastModified, "lastModified");
    }

    /** {@return {@code model/org/name}: the type and the id, as {@code hf cache ls} shows it} */
    public String cacheId() {
        return type.id() + "/" + repoId;
    }

    /** {@return every ref of the repository and the commit it points at, sorted by ref name} */
    public Map<String, String> refs() {
        Map<String, String> refs = new TreeMap<>();
        for (CachedRevision revision : revisions) {
            for (String ref : revision.refs()) {
                refs.put(ref, revision.commit());
            }
        }
        return refs;
    }
}
