package dev.safeload.safetensors.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The mounts of this process as {@code /proc/self/mountinfo} lists them (proc(5)), to tell which
 * filesystem a file is on: the entry whose mount point is the longest prefix of the file's real
 * path, by whole components; of entries with the same mount point, the last one (it is mounted over
 * the others). Bind mounts need nothing special: their entry carries the type of the filesystem
 * they show. See docs/safetensors.md §4.6.
 */
public final class MountTable {
    /**
     * Types where every page fault of a mapping is a round trip to a server or to a user-space
     * daemon, and where a file changed by another client can fault the mapping: read with {@code
     * pread} there.
     */
    private static final Set<String> POSITIONAL_READ_TYPES =
            Set.of(
                    "nfs",
                    "nfs4",
                    "lustre",
                    "cifs",
                    "smb3",
                    "smbfs",
                    "9p",
                    "fuse",
                    "fuseblk",
                    "ceph",
                    "gpfs",
                    "beegfs",
                    "afs",
                    "glusterfs",
                    "orangefs");

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** One mount: where it is and its filesystem type (mountinfo field 9). */
    public record Mount(String mountPoint, String type) {}

    private final List<Mount> mounts;

    private MountTable(List<Mount> mounts) {
        this.mounts = List.copyOf(mounts);
    }

    /** This process's mounts, or none when {@code /proc/self/mountinfo} cannot be read. */
    public static MountTable current() {
        try {
            return parse(Files.readString(MOUNTINFO, StandardCharsets.UTF_8));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return new MountTable(List.of());
        }
    }

    /** Parses mountinfo text; lines that do not have its shape are skipped. */
    public static MountTable parse(String mountinfo) {
        List<Mount> mounts = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
            String[] fields = line.strip().split(" ");
            int separator = -1;
            for (int i = 6; i < fields.length; i++) {
                if (fields[i].equals("-")) {
                    separator = i;
                    break;
                }
            }
            if (fields.length < 5 || separator < 0 || separator + 1 >= fields.length) {
                continue;
            }
            mounts.add(new Mount(unescape(fields[4]), unescape(fields[separator + 1])));
        }
        return new MountTable(mounts);
    }

    public List<Mount> mounts() {
        return mounts;
    }

    /** The mount that holds {@code absolutePath} (already resolved: no symlinks, no {@code ..}). */
    public Optional<Mount> mountOf(String absolutePath) {
        Mount best = null;
        for (Mount m : mounts) {
            if (contains(m.mountPoint(), absolutePath)
                    && (best == null || m.mountPoint().length() >= best.mountPoint().length())) {
                best = m;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * Whether files on a filesystem of {@code type} are better read with {@code pread} than mapped:
     * network and FUSE filesystems ({@code fuse.*} included).
     */
    public static boolean prefersPositionalReads(String type) {
        String t = type.toLowerCase(Locale.ROOT);
        return POSITIONAL_READ_TYPES.contains(t) || t.startsWith("fuse.") || t.startsWith("nfs");
    }

    private static boolean contains(String mountPoint, String path) {
        if (mountPoint.equals("/")) {
            return path.startsWith("/");
        }
        return path.equals(mountPoint)
                || (path.startsWith(mountPoint) && path.charAt(mountPoint.length()) == '/');
    }

    /** The kernel writes space, tab, newline and backslash in these fields as {@code \ooo}. */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1)) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '7') {
                return false;
            }
        }
        return true;
    }
}
