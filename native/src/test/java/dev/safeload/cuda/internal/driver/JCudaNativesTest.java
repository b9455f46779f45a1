package dev.safeload.cuda.internal.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cuda.Cuda;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * JCuda's JNI library goes into a directory only this user can write, never JCuda's fixed {@code
 * /tmp} path where a planted file would be loaded as is.
 */
class JCudaNativesTest {
    @TempDir Path dir;

    String name;
    byte[] library;

    @BeforeEach
    void library() throws IOException {
        name = JCudaNatives.libraryName().orElseThrow();
        try (InputStream in = JCudaNatives.class.getResourceAsStream("/lib/" + name)) {
            library = in.readAllBytes();
        }
    }

    @Test
    void copiesTheLibraryIntoAnOwnerOnlyDirectory() throws IOException {
        Path target = dir.resolve("cache/safeload/jcuda");
        assertEquals(target, JCudaNatives.prepare(target).orElseThrow());
        assertArrayEquals(library, Files.readAllBytes(target.resolve(name)));
        assertEquals(
                "rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        try (var files = Files.list(target)) {
            assertEquals(
                    List.of(target.resolve(name)), files.toList(), "no partial file left behind");
        }
    }

    @Test
    void replacesAPlantedOrTruncatedFile() throws IOException {
        Path target =
                Files.createDirectory(
                        dir.resolve("jcuda"),
                        PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rwx------")));
        Files.write(target.resolve(name), new byte[] {0x7f, 'E', 'L', 'F'});
        assertTrue(JCudaNatives.prepare(target).isPresent());
        assertArrayEquals(library, Files.readAllBytes(target.resolve(name)));
    }

    @Test
    void refusesADirectoryOthersCanWriteOrALink() throws IOException {
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertTrue(JCudaNatives.prepare(shared).isEmpty());
        assertFalse(Files.exists(shared.resolve(name)), "nothing written into a shared directory");
        Path real =
                Files.createDirectory(
                        dir.resolve("real"),
                        PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rwx------")));
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        assertTrue(JCudaNatives.prepare(link).isEmpty());
    }

    /** A fresh JVM probes CUDA: the library JCuda loads is our private copy. */
    @Test
    void theProbeLoadsThePrivateCopy() throws Exception {
        Path target = dir.resolve("natives");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p =
                new ProcessBuilder(
                                java,
                                "--enable-native-access=ALL-UNNAMED",
                                "-D" + JCudaNatives.DIRECTORY_PROPERTY + "=" + target,
                                "-cp",
                                System.getProperty("java.class.path"),
                                Probe.class.getName())
                        .redirectErrorStream(true)
                        .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertArrayEquals(library, Files.readAllBytes(target.resolve(name)));
        if (out.startsWith("unavailable: ") && out.contains(name)) {
            // The loader's message names the file it tried: ours, not java.io.tmpdir's.
            assertTrue(out.contains(target.resolve(name).toString()), out);
        }
        assertFalse(
                out.contains(Path.of(System.getProperty("java.io.tmpdir"), name).toString()), out);
    }

    /** The child JVM of {@link #theProbeLoadsThePrivateCopy}. */
    public static final class Probe {
        public static void main(String[] args) {
            System.out.println(
                    Cuda.isAvailable()
                            ? "available"
                            : "unavailable: " + Cuda.unavailableReason().orElse(""));
        }
    }
}
