package dev.safeload.cache.internal;

import dev.safeload.cache.RepoCacheLayout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Read-only answers about one repository of a cache, for the mirror server: which commit a revision
 * names, and which files a snapshot holds with their etag and size. Every path handed in has been
 * checked by {@link SafePaths}; every file handed out is checked to lie inside the cache, so a
 * hostile link in a snapshot cannot make the server read elsewhere.
 */
public final class SnapshotView {
    /** A snapshot file as the hub describes it. {@code etag} is the blob name (sha256 for LFS). */
    public record Entry(String path, Path file, String etag, long size) {
        public boolean lfs() {
            return BlobHashes.SHA256_NAME.matcher(etag).matches();
        }

        /**
         * The git object id the hub reports: the blob's sha1, or for LFS the sha1 of its pointer.
         */
        public String gitOid() {
            return lfs() ? BlobHashes.gitSha1(BlobHashes.lfsPointer(etag, size)) : etag;
        }

        public int pointerSize() {
            return BlobHashes.lfsPointer(etag, size).length;
        }
    }

    /**
     * Etags of snapshot files that are regular files (caches written without symlinks), by
     * identity.
     */
    private static final ConcurrentMap<String, String> COMPUTED_ETAGS = new ConcurrentHashMap<>();

    private final RepoCacheLayout layout;
    private final Path cacheRoot;

    public SnapshotView(RepoCacheLayout layout, Path cacheRoot) {
        this.layout = layout;
        this.cacheRoot = cacheRoot;
    }

    public boolean exists() {
        return Files.isDirectory(layout.repoDir());
    }

    /**
     * The commit {@code revision} names in this cache: a commit with a snapshot, or a ref's
     * content.
     */
    public Optional<String> commit(String revision) {
        String commit = revision;
        if (!RepoCacheLayout.isCommit(revision)) {
            try {
                Path ref = layout.ref(revision);
                if (!Files.isRegularFile(ref)) {
                    return Optional.empty();
                }
                // Tolerate a trailing newline here (the server only reads): huggingface_hub #4133.
                commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                return Optional.empty();
            }
        }
        if (!RepoCacheLayout.isCommit(commit) || !Files.isDirectory(layout.snapshotDir(commit))) {
            return Optional.empty();
        }
        return Optional.of(commit);
    }

    /** The file at {@code path} in the snapshot of {@code commit}, if cached and intact. */
    public Optional<Entry> file(String commit, String path) throws IOException {
        Path file = layout.snapshotFile(commit, path);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(file)) {
            return Optional.empty();
        }
        return entry(path, file);
    }

    /** Every cached file of the snapshot, sorted by path. */
    public List<Entry> files(String commit) throws IOException {
        Path dir = layout.snapshotDir(commit);
        List<Entry> entries = new ArrayList<>();
        for (Path file : ScanWalker.filesUnder(dir)) {
            entry(ScanWalker.posixRelative(dir, file), file).ifPresent(entries::add);
        }
        entries.sort(Comparator.comparing(Entry::path));
        return entries;
    }

    private Optional<Entry> entry(String path, Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Path real = file.toRealPath();
        if (!real.startsWith(cacheRoot)) {
            return Optional.empty();
        }
        BasicFileAttributes attrs = Files.readAttributes(real, BasicFileAttributes.class);
        if (!attrs.isRegularFile()) {
            return Optional.empty();
        }
        String etag;
        if (Files.isSymbolicLink(file)) {
            etag = Files.readSymbolicLink(file).getFileName().toString();
        } else {
            etag = computedEtag(real, attrs);
        }
        if (BlobHashes.algorithmFor(etag) == null) {
            etag = computedEtag(real, attrs);
        }
        return Optional.of(new Entry(path, real, etag, attrs.size()));
    }

    /** A file with no blob name: its git blob sha1, computed once per file version. */
    private static String computedEtag(Path real, BasicFileAttributes attrs) throws IOException {
        String key =
                real
                        + "|"
                        + attrs.size()
                        + "|"
                        + attrs.lastModifiedTime().toMillis()
                        + "|"
                        + attrs.fileKey();
        String known = COMPUTED_ETAGS.get(key);
        if (known != null) {
            return known;
        }
        String etag = BlobHashes.hash(real, BlobHashes.Algorithm.GIT_SHA1);
        COMPUTED_ETAGS.put(key, etag);
        return etag;
    }
}
