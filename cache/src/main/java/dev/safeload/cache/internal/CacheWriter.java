package dev.safeload.cache.internal;

import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;
import dev.safeload.cache.RepoCacheLayout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes the small files of the cache layout exactly as huggingface_hub does (docs/hub.md §1): refs
 * without a newline, relative symlinks (or copies), {@code .no_exist} markers, {@code
 * CACHEDIR.TAG}. Files are created with the process umask and never chmod'ed, so a cache shared by
 * a group (umask 002) stays writable by the group. Every replacement is a rename, so a reader never
 * sees a half-written ref or a missing snapshot entry.
 */
public final class CacheWriter {
    private static final System.Logger LOG = System.getLogger("dev.safeload.cache");

    /** The bford.info cache directory tag, with huggingface_hub's wording (docs/hub.md §1.8). */
    static final String CACHEDIR_TAG =
            "Signature: 8a477f597d28d172789f06886806bc55\n"
                    + "# This file is a cache directory tag created by huggingface_hub.\n"
                    + "# For information about cache directory tags, see:\n"
                    + "#\thttps://bford.info/cachedir/\n";

    private static final Map<Path, Boolean> SYMLINKS_SUPPORTED = new ConcurrentHashMap<>();

    private final Path root;
    private final boolean symlinksDisabled;
    private volatile boolean tagChecked;

    public CacheWriter(Path root, boolean symlinksDisabled) {
        this.root = root;
        this.symlinksDisabled = symlinksDisabled;
    }

    /**
     * Writes {@code CACHEDIR.TAG} at the root when absent (checked once per writer); a read-only
     * cache is fine.
     */
    public void tagCacheDir() {
        Path tag = root.resolve("CACHEDIR.TAG");
        if (tagChecked || Files.exists(tag)) {
            tagChecked = true;
            return;
        }
        tagChecked = true;
        try {
            Files.createDirectories(root);
            atomicWrite(tag, CACHEDIR_TAG);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot write " + tag + ": " + e);
        }
    }

    /**
     * {@code refs/<revision>} = commit, no trailing newline (a newline breaks huggingface_hub's
     * offline lookups, issue #4133). Written only when the content differs, so a correct read-only
     * cache needs no write.
     */
    public void writeRef(RepoCacheLayout layout, String revision, String commit) {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = layout.ref(revision);
        try {
            if (Files.isRegularFile(ref)
                    && Files.readString(ref, StandardCharsets.UTF_8).equals(commit)) {
                return;
            }
            Files.createDirectories(ref.getParent());
            atomicWrite(ref, commit);
        } catch (IOException e) {
            throw new HubException(
                    HubError.Io,
                    "cannot write the ref "
                            + ref
                            + ": "
                            + e.getMessage()
                            + ". Check that the cache is writable (or use a commit hash as the"
                            + " revision).",
                    e);
        }
    }

    /**
     * The commit a ref names, or {@code null}: read without stripping, as huggingface_hub reads it.
     */
    public static String readRef(RepoCacheLayout layout, String revision) {
        if (RepoCacheLayout.isCommit(revision)) {
            return revision;
        }
        Path ref = layout.ref(revision);
        try {
            String commit = Files.readString(ref, StandardCharsets.UTF_8);
            return RepoCacheLayout.isCommit(commit) ? commit : null;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Touches {@code .no_exist/<commit>/<path>}: the hub said {@code path} is not in {@code
     * commit}.
     */
    public void markMissing(RepoCacheLayout layout, String commit, String path) {
        Path marker = layout.noExistFile(commit, path);
        try {
            Files.createDirectories(marker.getParent());
            if (!Files.exists(marker)) {
                Files.createFile(marker);
            }
        } catch (FileAlreadyExistsException ignored) {
            // another process wrote it
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot write " + marker + ": " + e);
        }
    }

    /**
     * Makes {@code pointer} show {@code blob}: a relative symlink ({@code ../../blobs/<etag>}, one
     * more {@code ../} per folder level), created under a temporary name and renamed over the
     * pointer. Without symlinks, a fresh blob is moved into place and an old one copied, as
     * huggingface_hub's degraded mode does.
     */
    public void link(Path blob, Path pointer, boolean freshBlob) {
        try {
            Files.createDirectories(pointer.getParent());
            Path temp = pointer.resolveSibling(pointer.getFileName() + "." + randomHex() + ".tmp");
            if (symlinksSupported()) {
                try {
                    Path target = pointer.getParent().relativize(blob);
                    try {
                        Files.createSymbolicLink(
                                pointer, target); // the usual case: one file system operation
                    } catch (FileAlreadyExistsException e) {
                        Files.createSymbolicLink(temp, target);
                        moveReplacing(temp, pointer);
                    }
                    return;
                } catch (IOException | UnsupportedOperationException e) {
                    Files.deleteIfExists(temp);
                    LOG.log(System.Logger.Level.DEBUG, "symlink failed, copying instead: " + e);
                }
            }
            if (freshBlob) {
                moveReplacing(blob, pointer);
            } else {
                Files.copy(blob, temp, StandardCopyOption.REPLACE_EXISTING);
                moveReplacing(temp, pointer);
            }
        } catch (IOException e) {
            throw new HubException(
                    HubError.Io, "cannot create " + pointer + ": " + e.getMessage(), e);
        }
    }

    /**
     * Symlink support, probed once per cache root as huggingface_hub's {@code
     * are_symlinks_supported}.
     */
    public boolean symlinksSupported() {
        if (symlinksDisabled) {
            return false;
        }
        return SYMLINKS_SUPPORTED.computeIfAbsent(
                root.toAbsolutePath().normalize(),
                r -> {
                    try {
                        Files.createDirectories(r);
                        Path probe = Files.createTempDirectory(r, "tmp");
                        try {
                            Path source = Files.createFile(probe.resolve("source"));
                            Path link =
                                    Files.createSymbolicLink(
                                            probe.resolve("link"), probe.relativize(source));
                            return Files.isRegularFile(link);
                        } finally {
                            deleteTree(probe);
                        }
                    } catch (IOException | UnsupportedOperationException e) {
                        LOG.log(
                                System.Logger.Level.WARNING,
                                "symlinks are not supported in "
                                        + r
                                        + "; snapshot files will be copies (more disk space): "
                                        + e.getMessage());
                        return false;
                    }
                });
    }

    /** Writes {@code content} to a sibling temporary file, then renames it over {@code target}. */
    public static void atomicWrite(Path target, String content) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + "." + randomHex() + ".tmp");
        try {
            Files.writeString(temp, content, StandardCharsets.UTF_8);
            moveReplacing(temp, target);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    public static void moveReplacing(Path from, Path to) throws IOException {
        try {
            Files.move(
                    from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static String randomHex() {
        return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (NoSuchFileException ignored) {
                    // already gone
                }
            }
        }
    }
}
