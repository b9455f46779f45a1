package dev.safeload.cache;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link CacheScanner#scan(Path)} found in a hub cache: a snapshot of the folder at scan time,
 * holding values only (nothing stays open).
 *
 * @param root the cache root, absolute
 * @param repos the valid repositories, sorted by {@link CachedRepo#cacheId()}
 * @param incompleteFiles partial downloads (the {@code .incomplete} files in each {@code blobs}
 *     folder)
 * @param problems what is corrupt; each repository with a problem is left out of {@code repos}
 * @param physicalSizeOnDisk the bytes the valid repositories' blobs occupy, each file (inode)
 *     counted once even when hard-linked into several repositories by {@code dedupe}
 */
public record CacheReport(
        Path root,
        List<CachedRepo> repos,
        List<IncompleteFile> incompleteFiles,
        List<CacheProblem> problems,
        long physicalSizeOnDisk) {
    /** Checks the root and copies the lists. */
    public CacheReport {
        Objects.requireNonNull(root, "root");
        repos = List.copyOf(repos);
        incompleteFiles = List.copyOf(incompleteFiles);
        problems = List.copyOf(problems);
    }

    /**
     * {@return the sum of the repositories' sizes, as huggingface_hub's {@code size_on_disk} adds
     * them}
     */
    public long sizeOnDisk() {
        return repos.stream().mapToLong(CachedRepo::sizeOnDisk).sum();
    }

    /** {@return the bytes held by partial downloads} */
    public long incompleteSizeOnDisk() {
        return incompleteFiles.stream().mapToLong(IncompleteFile::size).sum();
    }

    /** {@return how many revisions the valid repositories hold} */
    public int revisionCount() {
        return repos.stream().mapToInt(r -> r.revisions().size()).sum();
    }

    /**
     * Finds one repository of the report.
     *
     * @param type the repository's type
     * @param repoId {@code name} or {@code org/name}
     * @return the repository, if the cache holds it and it is valid
     */
    public Optional<CachedRepo> repo(RepoType type, String repoId) {
        return repos.stream()
                .filter(r -> r.type() == type && r.repoId().equals(repoId))
                .findFirst();
    }
}
