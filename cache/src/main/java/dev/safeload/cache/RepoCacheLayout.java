package dev.safeload.cache;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where huggingface_hub keeps one repository inside a hub cache root (docs/hub.md §1):
 *
 * <pre>
 * ROOT/models--org--name/blobs/ETAG
 * ROOT/models--org--name/refs/REVISION             (40 hex commit, no newline; refs/pr/1 nests)
 * ROOT/models--org--name/snapshots/COMMIT/PATH     (relative symlink to ../../blobs/ETAG)
 * ROOT/models--org--name/.no_exist/COMMIT/PATH     (empty marker: PATH is not in COMMIT)
 * ROOT/.locks/models--org--name/ETAG.lock
 * </pre>
 *
 * Pure path arithmetic: nothing here touches the file system, and the record owns nothing. Callers
 * validate {@code path} and {@code revision} arguments (see the resolver) before passing them in;
 * {@link HubRepo#layout(Path)} is the usual way to get one.
 *
 * @param root the hub cache root (the folder holding {@code models--org--name})
 * @param type the repository's type
 * @param repoId the repository id, {@code name} or {@code org/name}
 */
public record RepoCacheLayout(Path root, RepoType type, String repoId) {
    /**
     * A full commit hash as the hub writes it: 40 lower-case hex digits (huggingface_hub's
     * REGEX_COMMIT_HASH).
     */
    public static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    /**
     * Checks that no component is null.
     *
     * @throws NullPointerException if one is
     */
    public RepoCacheLayout {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(repoId, "repoId");
    }

    /**
     * {@code models--org--name}: the type's plural, then the repo id with every {@code /} replaced
     * by {@code --}.
     *
     * @param type the repository's type
     * @param repoId the repository id
     * @return the repository's folder name inside a cache root
     */
    public static String folderName(RepoType type, String repoId) {
        return type.id() + "s--" + repoId.replace("/", "--");
    }

    /**
     * This repository's folder name, as {@link #folderName(RepoType, String)}.
     *
     * @return for example {@code models--org--name}
     */
    public String folderName() {
        return folderName(type, repoId);
    }

    /**
     * The repository's folder.
     *
     * @return {@code ROOT/models--org--name}
     */
    public Path repoDir() {
        return root.resolve(folderName());
    }

    /**
     * The folder of the content-addressed files.
     *
     * @return {@code ROOT/models--org--name/blobs}
     */
    public Path blobsDir() {
        return repoDir().resolve("blobs");
    }

    /**
     * One blob.
     *
     * @param etag the blob name: a git sha1 (40 hex) or, for LFS files, a sha256 (64 hex)
     * @return {@code blobs/<etag>}
     */
    public Path blob(String etag) {
        return blobsDir().resolve(etag);
    }

    /**
     * The folder of the refs (branches, tags, {@code refs/pr/N}).
     *
     * @return {@code ROOT/models--org--name/refs}
     */
    public Path refsDir() {
        return repoDir().resolve("refs");
    }

    /**
     * The file that names the commit of {@code revision}.
     *
     * @param revision a branch, tag or {@code refs/pr/N}
     * @return {@code refs/<revision>}; a revision with slashes ({@code refs/pr/1}) nests folders
     */
    public Path ref(String revision) {
        return refsDir().resolve(revision);
    }

    /**
     * The folder of the snapshots, one per commit.
     *
     * @return {@code ROOT/models--org--name/snapshots}
     */
    public Path snapshotsDir() {
        return repoDir().resolve("snapshots");
    }

    /**
     * One commit's snapshot: the repository's files as links to their blobs.
     *
     * @param commit a 40-hex commit
     * @return {@code snapshots/<commit>}
     */
    public Path snapshotDir(String commit) {
        return snapshotsDir().resolve(commit);
    }

    /**
     * One file of a snapshot.
     *
     * @param commit a 40-hex commit
     * @param path the file's path in the repository, {@code /}-separated
     * @return {@code snapshots/<commit>/<path>}, with {@code path} split on {@code /}
     */
    public Path snapshotFile(String commit, String path) {
        return snapshotDir(commit).resolve(path);
    }

    /**
     * The folder of one commit's markers for files the hub said do not exist (docs/hub.md §1.5).
     *
     * @param commit a 40-hex commit
     * @return {@code .no_exist/<commit>}
     */
    public Path noExistDir(String commit) {
        return repoDir().resolve(".no_exist").resolve(commit);
    }

    /**
     * The marker saying that {@code path} is not in {@code commit}.
     *
     * @param commit a 40-hex commit
     * @param path the file's path in the repository
     * @return {@code .no_exist/<commit>/<path>}
     */
    public Path noExistFile(String commit, String path) {
        return noExistDir(commit).resolve(path);
    }

    /**
     * The folder of this repository's download locks, at the cache root.
     *
     * @return {@code ROOT/.locks/models--org--name}
     */
    public Path locksDir() {
        return root.resolve(".locks").resolve(folderName());
    }

    /**
     * The lock file that serialises downloads of one blob across processes (docs/hub.md §1.7).
     *
     * @param etag the blob name
     * @return {@code ROOT/.locks/models--org--name/<etag>.lock}
     */
    public Path lock(String etag) {
        return locksDir().resolve(etag + ".lock");
    }

    /**
     * Whether {@code revision} is already a full commit hash (then no ref is written for it).
     *
     * @param revision a branch, tag, {@code refs/pr/N} or commit
     * @return true for exactly 40 lower-case hex digits
     */
    public static boolean isCommit(String revision) {
        return COMMIT.matcher(revision).matches();
    }
}
