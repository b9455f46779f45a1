package dev.safeload.cache.internal;

import dev.safeload.cache.DedupeReport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/** The work of {@code dedupe}: group blobs by name, size and filesystem, verify, then link. */
public final class BlobLinker {
    private final List<Path> blobs;
    private final List<String> messages = new ArrayList<>();
    private int linked;
    private long bytesSaved;

    public BlobLinker(List<Path> blobs) {
        this.blobs = List.copyOf(blobs);
    }

    /** One path of a blob file, with the identity of the file it is. */
    private record Copy(
            Path path, Object device, Object inode, long size, long links, FileTime modified) {
        static Copy of(Path path) throws IOException {
            BasicFileAttributes basic =
                    Files.readAttributes(
                            path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            Object device;
            Object inode;
            long links;
            try {
                Map<String, Object> unix =
                        Files.readAttributes(path, "unix:dev,ino,nlink", LinkOption.NOFOLLOW_LINKS);
                device = unix.get("dev");
                inode = unix.get("ino");
                links = ((Number) unix.get("nlink")).longValue();
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                // Not a POSIX file system view: the file store stands in for the device.
                device = Files.getFileStore(path).name();
                inode = basic.fileKey() == null ? path : basic.fileKey();
                links = 1;
            }
            return new Copy(path, device, inode, basic.size(), links, basic.lastModifiedTime());
        }

        boolean sameFile(Copy other) {
            return device.equals(other.device) && inode.equals(other.inode);
        }
    }

    public DedupeReport run() {
        Map<String, List<Copy>> byName = new LinkedHashMap<>();
        for (Path blob : blobs) {
            try {
                Copy copy = Copy.of(blob);
                byName.computeIfAbsent(
                                blob.getFileName() + "/" + copy.size(), k -> new ArrayList<>())
                        .add(copy);
            } catch (IOException e) {
                messages.add(String.format(Locale.ROOT, "skipped %s: %s", blob, e));
            }
        }
        for (List<Copy> group : byName.values()) {
            if (group.size() > 1) {
                dedupeGroup(group);
            }
        }
        return new DedupeReport(blobs.size(), linked, bytesSaved, messages);
    }

    /** Copies with one name and size: link them per device, never across devices. */
    private void dedupeGroup(List<Copy> group) {
        Map<Object, List<Copy>> byDevice = new LinkedHashMap<>();
        for (Copy copy : group) {
            byDevice.computeIfAbsent(copy.device(), k -> new ArrayList<>()).add(copy);
        }
        if (byDevice.size() > 1) {
            List<Path> firsts = byDevice.values().stream().map(l -> l.getFirst().path()).toList();
            messages.add(
                    String.format(
                            Locale.ROOT,
                            "not linked across filesystems (a hard link cannot cross them): %s",
                            firsts));
        }
        for (List<Copy> copies : byDevice.values()) {
            if (copies.stream().anyMatch(c -> !c.sameFile(copies.getFirst()))) {
                linkOnDevice(copies);
            }
        }
    }

    private void linkOnDevice(List<Copy> copies) {
        // Keep the file that already has the most links: fewest replacements, most bytes freed.
        List<Copy> ordered = new ArrayList<>(copies);
        ordered.sort((a, b) -> Long.compare(b.links(), a.links()));
        Copy keep = null;
        Map<Object, Boolean> verified = new LinkedHashMap<>();
        for (Copy candidate : ordered) {
            if (verify(candidate, verified)) {
                keep = candidate;
                break;
            }
        }
        if (keep == null) {
            return;
        }
        Map<Object, List<Copy>> replacedPerFile = new LinkedHashMap<>();
        for (Copy copy : ordered) {
            if (copy.sameFile(keep) || !verify(copy, verified)) {
                continue;
            }
            if (!keepsReaders(copy, keep)) {
                messages.add(
                        String.format(
                                Locale.ROOT,
                                "left alone: %s, linked to %s, would change who can read it (owner,"
                                        + " group or mode differ)",
                                copy.path(),
                                keep.path()));
                continue;
            }
            if (replace(copy, keep)) {
                linked++;
                replacedPerFile.computeIfAbsent(copy.inode(), k -> new ArrayList<>()).add(copy);
            }
        }
        for (List<Copy> replaced : replacedPerFile.values()) {
            // The old file is freed only when we replaced every link it had.
            if (replaced.size() >= replaced.getFirst().links()) {
                bytesSaved += replaced.getFirst().size();
            }
        }
    }

    /**
     * Whether everyone who can read {@code copy} can still read it once it is a link to {@code
     * keep}: a hard link shares the kept file's owner, group and mode, and a cache shared by
     * several users must not lose readers (docs/hub.md §1.7: blobs get the umask's mode). So the
     * kept file is world-readable, or has the same owner and group and every read bit the copy had.
     */
    private static boolean keepsReaders(Copy copy, Copy keep) {
        try {
            PosixFileAttributes from =
                    Files.readAttributes(
                            copy.path(), PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            PosixFileAttributes to =
                    Files.readAttributes(
                            keep.path(), PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (to.permissions().contains(PosixFilePermission.OTHERS_READ)) {
                return true;
            }
            Set<PosixFilePermission> reads =
                    EnumSet.of(
                            PosixFilePermission.OWNER_READ,
                            PosixFilePermission.GROUP_READ,
                            PosixFilePermission.OTHERS_READ);
            reads.retainAll(from.permissions());
            return from.owner().equals(to.owner())
                    && from.group().equals(to.group())
                    && to.permissions().containsAll(reads);
        } catch (UnsupportedOperationException e) {
            return true; // No POSIX permissions here (the file system decides access by other
            // means).
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Whether the copy's content hashes to its name; hashed once per file, corrupt copies reported.
     */
    private boolean verify(Copy copy, Map<Object, Boolean> verified) {
        Boolean known = verified.get(copy.inode());
        if (known != null) {
            return known;
        }
        String name = copy.path().getFileName().toString();
        boolean ok;
        try {
            ok = name.equals(BlobHashes.hash(copy.path(), BlobHashes.algorithmFor(name)));
            if (!ok) {
                messages.add(
                        String.format(
                                Locale.ROOT,
                                "left alone: %s does not match its name (corrupt; run 'safeload"
                                        + " verify')",
                                copy.path()));
            }
        } catch (IOException e) {
            ok = false;
            messages.add(
                    String.format(Locale.ROOT, "left alone: cannot read %s: %s", copy.path(), e));
        }
        verified.put(copy.inode(), ok);
        return ok;
    }

    /**
     * Replaces {@code copy} by a hard link to {@code keep}: link to a temporary name in the same
     * folder, check the copy is still the file we hashed, then rename over it (rename(2) replaces
     * atomically). On any failure the temporary link is removed and the copy stays as it was.
     */
    private boolean replace(Copy copy, Copy keep) {
        Path target = copy.path();
        Path temp =
                target.resolveSibling(
                        target.getFileName()
                                + "."
                                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt())
                                + ".dedupe");
        try {
            Files.createLink(temp, keep.path());
            try {
                Copy now = Copy.of(target);
                if (!now.sameFile(copy)
                        || now.size() != copy.size()
                        || !Objects.equals(now.modified(), copy.modified())) {
                    messages.add(
                            String.format(
                                    Locale.ROOT,
                                    "left alone: %s changed while deduplicating",
                                    target));
                    return false;
                }
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                return true;
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            messages.add(
                    String.format(
                            Locale.ROOT,
                            "left alone: cannot link %s to %s: %s",
                            target,
                            keep.path(),
                            e));
            return false;
        }
    }
}
