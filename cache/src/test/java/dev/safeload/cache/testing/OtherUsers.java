package dev.safeload.cache.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Runs test JVMs as other users (root drops to them with {@code setpriv}), for the tests of
 * read-only and shared caches.
 *
 * <p>The other user must be able to read this JVM's class path. It usually cannot: a checkout under
 * a {@code 0700} folder (root's home, {@code mktemp -d}) holds the module's own {@code
 * target/classes}, and the Maven repository sits under the home folder too. {@link
 * #shareableClassPath} copies every entry, folders included, into a folder the caller opens to
 * everyone.
 */
public final class OtherUsers {
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    private OtherUsers() {}

    /** Whether this JVM runs as root (permissions do not bind it). */
    public static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Whether {@link #asUser} can work here: root with {@code setpriv}. */
    public static boolean canSwitchUser() {
        return root() && Files.isExecutable(SETPRIV);
    }

    /**
     * The command prefix that runs what follows as {@code uid}/{@code gid}, with exactly the
     * supplementary {@code groups} (none if empty).
     */
    public static List<String> asUser(int uid, int gid, List<Integer> groups) {
        List<String> prefix = new ArrayList<>();
        prefix.add(SETPRIV.toString());
        prefix.add("--reuid=" + uid);
        prefix.add("--regid=" + gid);
        if (groups.isEmpty()) {
            prefix.add("--clear-groups");
        } else {
            prefix.add(
                    "--groups=" + String.join(",", groups.stream().map(String::valueOf).toList()));
        }
        return prefix;
    }

    /**
     * This JVM's class path, copied into {@code dir} so that any user can read it: a jar is
     * hard-linked when everyone may read it already, else copied; a folder (a module's {@code
     * target/classes}) is copied whole. Entries that do not exist are dropped. {@code dir} and
     * everything in it are made world-readable; its parents are the caller's business.
     */
    public static String shareableClassPath(Path dir) {
        return shareableClassPath(System.getProperty("java.class.path"), dir);
    }

    /** {@link #shareableClassPath(Path)} for a given class path. */
    public static String shareableClassPath(String classPath, Path dir) {
        try {
            Files.createDirectories(dir);
            openToAll(dir);
            List<String> out = new ArrayList<>();
            int i = 0;
            for (String entry : classPath.split(File.pathSeparator)) {
                if (entry.isEmpty()) {
                    continue;
                }
                Path source = Path.of(entry);
                Path copy = dir.resolve((i++) + "-" + source.getFileName());
                if (Files.isRegularFile(source)) {
                    linkOrCopy(source, copy);
                } else if (Files.isDirectory(source)) {
                    copyTree(source, copy);
                } else {
                    continue;
                }
                out.add(copy.toString());
            }
            return String.join(File.pathSeparator, out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the class path into " + dir, e);
        }
    }

    private static void linkOrCopy(Path source, Path copy) throws IOException {
        if (Files.getPosixFilePermissions(source).contains(PosixFilePermission.OTHERS_READ)) {
            try {
                Files.createLink(copy, source);
                return;
            } catch (IOException | UnsupportedOperationException e) {
                // another filesystem: copy below
            }
        }
        Files.copy(source, copy, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private static void copyTree(Path source, Path copy) throws IOException {
        try (Stream<Path> walk = Files.walk(source)) {
            for (Path p : walk.toList()) {
                Path target = copy.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                    openToAll(target);
                } else if (Files.isRegularFile(p)) {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(
                            target, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
        }
    }

    /** {@code rwxr-xr-x}: a folder everyone can list and enter. */
    public static void openToAll(Path dir) throws IOException {
        Set<PosixFilePermission> perms = PosixFilePermissions.fromString("rwxr-xr-x");
        Files.setPosixFilePermissions(dir, perms);
    }
}
