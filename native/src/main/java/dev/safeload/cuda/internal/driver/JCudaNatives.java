package dev.safeload.cuda.internal.driver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntSupplier;

/**
 * Where JCuda's JNI library is written before it is loaded. JCuda extracts it from its natives jar
 * to {@code java.io.tmpdir} under a fixed name ({@code /tmp/libJCudaDriver-12.6.0-linux-x86_64.so})
 * and loads a file already there without looking at it, so on a shared machine another user could
 * plant a library that every safeload process would then run. Before JCuda's first use we copy the
 * library into a directory only this user can write (atomically, so concurrent processes never load
 * a half-written file) and point {@code java.io.tmpdir} at it for the duration of the load; JCuda
 * then finds our copy and loads it.
 */
public final class JCudaNatives {
    /** The JCuda version the natives jar on the class path is built for (jcuda-natives 12.6.0). */
    static final String VERSION = "12.6.0";

    /** Overrides the directory (tests, or a site that wants the library elsewhere). */
    public static final String DIRECTORY_PROPERTY = "safeload.jcuda.nativeDirectory";

    private static final Set<PosixFilePermission> OWNER_ONLY =
            PosixFilePermissions.fromString("rwx------");

    private JCudaNatives() {}

    /**
     * The library's file name on this platform, or empty where the natives jar has no build for it.
     */
    static Optional<String> libraryName() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) {
            return Optional.empty();
        }
        String cpu =
                switch (arch) {
                    case "amd64", "x86_64" -> "x86_64";
                    case "aarch64", "arm64" -> "aarch64";
                    default -> null;
                };
        return cpu == null
                ? Optional.empty()
                : Optional.of("libJCudaDriver-" + VERSION + "-linux-" + cpu + ".so");
    }

    /**
     * Runs {@code loadAndCall} (the first JCuda call, which loads the library) with JCuda's
     * extraction directory pointed at a private copy of the library. Where no private copy can be
     * made, it runs as JCuda would on its own.
     */
    public static int withPrivateLibrary(IntSupplier loadAndCall) {
        Optional<Path> directory = prepare(defaultDirectory());
        Path scratch = null;
        if (directory.isEmpty()) {
            // No writable private cache (a read-only home): a fresh owner-only temporary directory,
            // removed once the library is loaded (the mapping outlives the file).
            try {
                scratch =
                        Files.createTempDirectory(
                                "safeload-jcuda-",
                                PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                directory = prepare(scratch);
            } catch (IOException | UnsupportedOperationException e) {
                directory = Optional.empty();
            }
        }
        if (directory.isEmpty()) {
            return loadAndCall.getAsInt();
        }
        // java.io.File caches its own temporary directory at start-up; only JCuda reads the
        // property now.
        String previous = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", directory.get().toString());
        try {
            return loadAndCall.getAsInt();
        } finally {
            System.setProperty("java.io.tmpdir", previous);
            if (scratch != null) {
                deleteQuietly(scratch);
            }
        }
    }

    private static void deleteQuietly(Path directory) {
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(directory);
        } catch (IOException e) {
            // a leftover temporary directory is harmless
        }
    }

    /**
     * {@value #DIRECTORY_PROPERTY}, else {@code $XDG_CACHE_HOME/safeload/jcuda-VERSION}, else
     * {@code ~/.cache/...}.
     */
    static Path defaultDirectory() {
        String configured = System.getProperty(DIRECTORY_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String cache = System.getenv("XDG_CACHE_HOME");
        Path base =
                cache != null && !cache.isBlank()
                        ? Path.of(cache)
                        : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("safeload").resolve("jcuda-" + VERSION);
    }

    /**
     * Copies the library from the class path into {@code directory} (created owner-only) unless an
     * identical copy is there. Empty when there is no library for this platform on the class path,
     * or the directory is not private to this user (then it is left alone).
     */
    static Optional<Path> prepare(Path directory) {
        Optional<String> name = libraryName();
        if (name.isEmpty()) {
            return Optional.empty();
        }
        try {
            byte[] expected;
            try (InputStream in = JCudaNatives.class.getResourceAsStream("/lib/" + name.get())) {
                if (in == null) {
                    return Optional.empty();
                }
                expected = in.readAllBytes();
            }
            if (!privateDirectory(directory)) {
                return Optional.empty();
            }
            Path target = directory.resolve(name.get());
            if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
                    && java.util.Arrays.equals(expected, Files.readAllBytes(target))) {
                return Optional.of(directory);
            }
            Path partial = Files.createTempFile(directory, name.get(), ".partial");
            try {
                Files.write(partial, expected);
                try {
                    Files.move(
                            partial,
                            target,
                            StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(partial);
            }
            return Optional.of(directory);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty();
        }
    }

    /**
     * Creates {@code directory} owner-only, or accepts it if it is a real directory owned by us
     * with no group or other access.
     */
    private static boolean privateDirectory(Path directory) throws IOException {
        try {
            Files.createDirectories(directory.getParent());
            Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (FileAlreadyExistsException e) {
            // checked below
        }
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        Set<PosixFilePermission> permissions =
                Files.getPosixFilePermissions(directory, LinkOption.NOFOLLOW_LINKS);
        boolean ours =
                Files.getOwner(directory, LinkOption.NOFOLLOW_LINKS)
                        .getName()
                        .equals(System.getProperty("user.name"));
        return ours && OWNER_ONLY.containsAll(permissions);
    }
}
