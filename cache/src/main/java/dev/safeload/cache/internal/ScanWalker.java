package dev.safeload.cache.internal;

import dev.safeload.cache.CacheProblem;
import dev.safeload.cache.CacheReport;
import dev.safeload.cache.CachedFile;
import dev.safeload.cache.CachedRepo;
import dev.safeload.cache.CachedRevision;
import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;
import dev.safeload.cache.IncompleteFile;
import dev.safeload.cache.RepoType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * One scan of one cache root. Mirrors {@code _scan_cached_repo} in huggingface_hub ({@code
 * utils/_cache_manager.py}, docs/hub.md §5.1-5.2) so that sizes and problems agree with the
 * reference on the same folder.
 */
public final class ScanWalker {
    /** Names the reference skips wherever it lists a folder (OS helper files). */
    public static final Set<String> IGNORED_NAMES = Set.of(".DS_Store", "Thumbs.db", "desktop.ini");

    /**
     * huggingface_hub 2.x keeps a shared blob store at {@code <root>/blobs}, marked by this file.
     */
    private static final String SHARED_BLOBS_MARKER = ".huggingface-shared-blobs";

    private final Path root;

    public ScanWalker(Path root) {
        this.root = root;
    }

    public CacheReport scan() {
        Path dir = realRoot(root);
        List<CachedRepo> repos = new ArrayList<>();
        List<CacheProblem> problems = new ArrayList<>();
        for (Path entry : list(dir)) {
            String name = entry.getFileName().toString();
            if (skippedAtRoot(entry, name)) {
                continue;
            }
            try {
                repos.add(new RepoScan(entry).scan());
            } catch (Corrupted e) {
                problems.add(e.problem);
            } catch (IOException | RuntimeException e) {
                problems.add(
                        new CacheProblem(
                                entry, "Cannot read repo folder " + entry + ": " + describe(e)));
            }
        }
        repos.sort(Comparator.comparing(CachedRepo::cacheId));
        return new CacheReport(dir, repos, incompleteFiles(dir), problems, physicalSize(repos));
    }

    /** The root, absolute and with links resolved (the reference calls {@code Path.resolve()}). */
    public static Path realRoot(Path root) {
        Path absolute = root.toAbsolutePath().normalize();
        if (!Files.exists(absolute)) {
            throw new HubException(
                    HubError.CacheNotFound,
                    String.format(
                            Locale.ROOT,
                            "Cache directory not found: %s. Pass --cache-dir or set HF_HUB_CACHE.",
                            absolute));
        }
        if (!Files.isDirectory(absolute)) {
            throw new HubException(
                    HubError.CacheNotFound,
                    String.format(
                            Locale.ROOT,
                            "Scan cache expects a directory but found a file: %s. Pass --cache-dir"
                                    + " or set HF_HUB_CACHE.",
                            absolute));
        }
        try {
            return absolute.toRealPath();
        } catch (IOException e) {
            return absolute;
        }
    }

    private static boolean skippedAtRoot(Path entry, String name) {
        return IGNORED_NAMES.contains(name)
                || name.equals(".locks")
                || name.equals("CACHEDIR.TAG")
                || (name.equals("blobs")
                        && Files.isRegularFile(entry.resolve(SHARED_BLOBS_MARKER)));
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.sorted().toList();
        } catch (IOException e) {
            throw new HubException(
                    HubError.Io, "Cannot list cache folder " + dir + ": " + describe(e), e);
        }
    }

    private static List<IncompleteFile> incompleteFiles(Path dir) {
        List<IncompleteFile> found = new ArrayList<>();
        for (Path repo : list(dir)) {
            Path blobs = repo.resolve("blobs");
            if (!Files.isDirectory(blobs)) {
                continue;
            }
            try (Stream<Path> entries = Files.list(blobs)) {
                for (Path p : entries.sorted().toList()) {
                    if (p.getFileName().toString().endsWith(".incomplete")) {
                        try {
                            found.add(new IncompleteFile(p, Files.size(p)));
                        } catch (IOException e) {
                            // Gone between listing and stat: another process finished or removed
                            // it.
                        }
                    }
                }
            } catch (IOException e) {
                // An unreadable blobs folder is reported by the repository scan; nothing to add
                // here.
            }
        }
        return found;
    }

    private static long physicalSize(List<CachedRepo> repos) {
        Set<Object> seen = new HashSet<>();
        long total = 0;
        for (CachedRepo repo : repos) {
            for (CachedRevision revision : repo.revisions()) {
                for (CachedFile file : revision.files()) {
                    Object key = fileKey(file.blobPath());
                    if (seen.add(key)) {
                        total += file.size();
                    }
                }
            }
        }
        return total;
    }

    private static Object fileKey(Path blob) {
        try {
            Object key = Files.readAttributes(blob, BasicFileAttributes.class).fileKey();
            return key == null ? blob : key;
        } catch (IOException e) {
            return blob;
        }
    }

    static String describe(Exception e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : " " + message);
    }

    /** A corruption case: the repository is dropped from the report, as the reference does. */
    private static final class Corrupted extends Exception {
        private static final long serialVersionUID = 1L;
        final transient CacheProblem problem;

        Corrupted(Path path, String message) {
            super(message, null, false, false);
            this.problem = new CacheProblem(path, message);
        }
    }

    /** The scan of one repository folder. */
    private static final class RepoScan {
        private final Path repoPath;
        private final Map<Path, BasicFileAttributes> blobStats = new LinkedHashMap<>();

        RepoScan(Path repoPath) {
            this.repoPath = repoPath;
        }

        CachedRepo scan() throws Corrupted, IOException {
            // Cases 1-3 of docs/hub.md §5.2: the folder name must be {type}s--{id}.
            if (!Files.isDirectory(repoPath)) {
                throw new Corrupted(repoPath, "Repo path is not a directory: " + repoPath);
            }
            String name = repoPath.getFileName().toString();
            int dashes = name.indexOf("--");
            if (dashes < 0) {
                throw new Corrupted(
                        repoPath,
                        "Repo path is not a valid HuggingFace cache directory: " + repoPath);
            }
            String prefix = name.substring(0, dashes);
            String repoId = name.substring(dashes + 2).replace("--", "/");
            RepoType type = typeOf(prefix);
            if (type == null) {
                throw new Corrupted(
                        repoPath,
                        String.format(
                                Locale.ROOT,
                                "Repo type must be `dataset`, `model` or `space`, found `%s` (%s).",
                                prefix,
                                repoPath));
            }
            // Case 4.
            Path snapshots = repoPath.resolve("snapshots");
            if (!Files.isDirectory(snapshots)) {
                throw new Corrupted(
                        snapshots, "Snapshots dir doesn't exist in cached repo: " + snapshots);
            }
            Map<String, Set<String>> refsByCommit = readRefs(repoPath.resolve("refs"));

            List<CachedRevision> revisions = new ArrayList<>();
            for (Path revisionPath : list(snapshots)) {
                String commit = revisionPath.getFileName().toString();
                if (IGNORED_NAMES.contains(commit)) {
                    continue;
                }
                // Case 6: only folders belong directly under snapshots/.
                if (!Files.isDirectory(revisionPath)) {
                    throw new Corrupted(
                            revisionPath,
                            "Snapshots folder corrupted. Found a file: " + revisionPath);
                }
                Set<String> refs = refsByCommit.remove(commit);
                revisions.add(scanRevision(revisionPath, commit, refs == null ? Set.of() : refs));
            }
            // Case 8: a ref naming no snapshot folder (a trailing newline in the ref does it too).
            if (!refsByCommit.isEmpty()) {
                throw new Corrupted(
                        repoPath.resolve("refs"),
                        String.format(
                                Locale.ROOT,
                                "Reference(s) refer to missing commit hashes: %s (%s).",
                                pythonRepr(refsByCommit),
                                repoPath));
            }
            revisions.sort(Comparator.comparing(CachedRevision::commit));
            Instant lastAccessed;
            Instant lastModified;
            if (blobStats.isEmpty()) {
                BasicFileAttributes attrs =
                        Files.readAttributes(repoPath, BasicFileAttributes.class);
                lastAccessed = attrs.lastAccessTime().toInstant();
                lastModified = attrs.lastModifiedTime().toInstant();
            } else {
                lastAccessed =
                        blobStats.values().stream()
                                .map(a -> a.lastAccessTime().toInstant())
                                .max(Comparator.naturalOrder())
                                .orElseThrow();
                lastModified =
                        blobStats.values().stream()
                                .map(a -> a.lastModifiedTime().toInstant())
                                .max(Comparator.naturalOrder())
                                .orElseThrow();
            }
            long size = blobStats.values().stream().mapToLong(BasicFileAttributes::size).sum();
            return new CachedRepo(
                    type,
                    repoId,
                    repoPath,
                    size,
                    blobStats.size(),
                    revisions,
                    lastAccessed,
                    lastModified);
        }

        private static RepoType typeOf(String prefix) {
            for (RepoType type : RepoType.values()) {
                if (prefix.equals(type.id() + "s")) {
                    return type;
                }
            }
            return null;
        }

        /**
         * refs/NAME holds a commit; NAME may nest ({@code refs/pr/1}). Read without stripping, as
         * the reference does.
         */
        private Map<String, Set<String>> readRefs(Path refsDir) throws Corrupted, IOException {
            Map<String, Set<String>> byCommit = new TreeMap<>();
            if (!Files.exists(refsDir)) {
                return byCommit;
            }
            // Case 5.
            if (!Files.isDirectory(refsDir)) {
                throw new Corrupted(refsDir, "Refs directory cannot be a file: " + refsDir);
            }
            for (Path ref : filesUnder(refsDir)) {
                if (IGNORED_NAMES.contains(ref.getFileName().toString())) {
                    continue;
                }
                String name = posixRelative(refsDir, ref);
                String commit = Files.readString(ref, StandardCharsets.UTF_8);
                byCommit.computeIfAbsent(commit, k -> new TreeSet<>()).add(name);
            }
            return byCommit;
        }

        private CachedRevision scanRevision(Path revisionPath, String commit, Set<String> refs)
                throws Corrupted, IOException {
            List<CachedFile> files = new ArrayList<>();
            Set<Path> distinctBlobs = new HashSet<>();
            for (Path file : filesUnder(revisionPath)) {
                Path blob = blobOf(file);
                // Case 7: the link's target is gone.
                if (!Files.exists(blob)) {
                    throw new Corrupted(blob, "Blob missing (broken symlink): " + blob);
                }
                BasicFileAttributes attrs = blobStats.get(blob);
                if (attrs == null) {
                    attrs = Files.readAttributes(blob, BasicFileAttributes.class);
                    blobStats.put(blob, attrs);
                }
                distinctBlobs.add(blob);
                files.add(
                        new CachedFile(
                                posixRelative(revisionPath, file),
                                file,
                                blob,
                                attrs.size(),
                                attrs.lastAccessTime().toInstant(),
                                attrs.lastModifiedTime().toInstant()));
            }
            files.sort(Comparator.comparing(CachedFile::path));
            long size = distinctBlobs.stream().mapToLong(b -> blobStats.get(b).size()).sum();
            Instant lastModified =
                    files.isEmpty()
                            ? Files.getLastModifiedTime(revisionPath).toInstant()
                            : distinctBlobs.stream()
                                    .map(b -> blobStats.get(b).lastModifiedTime().toInstant())
                                    .max(Comparator.naturalOrder())
                                    .orElseThrow();
            return new CachedRevision(
                    commit, revisionPath, files, new TreeSet<>(refs), size, lastModified);
        }

        /**
         * The first hop of a snapshot link, made absolute and normalized without resolving further
         * links (huggingface_hub 2.x does the same, so a repo blob that itself links elsewhere is
         * still the repo's own blob); a regular file is its own blob.
         */
        private static Path blobOf(Path file) throws IOException {
            if (!Files.isSymbolicLink(file)) {
                return file;
            }
            return file.getParent().resolve(Files.readSymbolicLink(file)).normalize();
        }
    }

    /**
     * Every non-folder entry below {@code dir}, links to folders excluded, without descending into
     * linked folders (what Python's {@code glob("**}{@code /*")} then {@code is_dir()} yields).
     */
    static List<Path> filesUnder(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        Files.walkFileTree(
                dir,
                new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                        if (!Files.isDirectory(file)) {
                            files.add(file);
                        }
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path file, IOException e)
                            throws IOException {
                        throw e;
                    }
                });
        return files;
    }

    static String posixRelative(Path base, Path file) {
        return base.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
    }

    /**
     * Python's {@code repr} of a {@code dict[str, set[str]]}, as the reference's message prints it.
     */
    private static String pythonRepr(Map<String, Set<String>> map) {
        StringBuilder out = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, Set<String>> e : map.entrySet()) {
            if (!first) {
                out.append(", ");
            }
            first = false;
            out.append(pythonRepr(e.getKey())).append(": {");
            out.append(
                    String.join(", ", e.getValue().stream().map(ScanWalker::pythonRepr).toList()));
            out.append('}');
        }
        return out.append('}').toString();
    }

    private static String pythonRepr(String s) {
        StringBuilder out = new StringBuilder("'");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\\' -> out.append("\\\\");
                case '\'' -> out.append("\\'");
                default -> out.append(c);
            }
        }
        return out.append('\'').toString();
    }
}
