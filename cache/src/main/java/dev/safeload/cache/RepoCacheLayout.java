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
 * Pure path arithmetic: nothing here touches the file system. Callers validate {@code path} and
 * {@code revision} arguments (see the resolver) before passing them in.
 */
public record RepoCacheLayout(Path root, RepoType type, String repoId) {
    /**
     * A full commit hash as the hub writes it: 40 lower-case hex digits (huggingface_hub's
     * REGEX_COMMIT_HASH).
     */
    public static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public RepoCacheLayout {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(repoId, "repoId");
    }

    /**
     * {@code models--org--name}: the type's plural, then the repo id with every {@code /} replaced
     * by {@code --}.
     */
    public static String folderName(RepoType type, String repoId) {
        return type.id() + "s--" + repoId.replace("/", "--");
    }

    public String folderName() {
        return folderName(type, repoId);
    }

    public Path repoDir() {
        return root.resolve(folderName());
    }

    public Path blobsDir() {
        return repoDir().resolve("blobs");
    }

    public Path blob(String etag) {
        return blobsDir().resolve(etag);
    }

    public Path refsDir() {
        return repoDir().resolve("refs");
    }

    /** {@code refs/<revision>}; a revision with slashes ({@code refs/pr/1}) nests folders. */
    public Path ref(String revision) {
        return refsDir().resolve(revision);
    }

    public Path snapshotsDir() {
        return repoDir().resolve("snapshots");
    }

    public Path snapshotDir(String commit) {
        return snapshotsDir().resolve(commit);
    }

    /** {@code snapshots/<commit>/<path>}, with {@code path} split on {@code /}. */
    public Path snapshotFile(String commit, String path) {
        return snapshotDir(commit).resolve(path);
    }

    public Path noExistDir(String commit) {
        return repoDir().resolve(".no_exist").resolve(commit);
    }

    public Path noExistFile(String commit, String path) {
        return noExistDir(commit).resolve(path);
    }

    public Path locksDir() {
        return root.resolve(".locks").resolve(folderName());
    }

    public Path lock(String etag) {
        return locksDir().resolve(etag + ".lock");
    }

    /** Whether {@code revision} is already a full commit hash (then no ref is written for it). */
    public static boolean isCommit(String revision) {
        return COMMIT.matcher(revision).matches();
    }
}
