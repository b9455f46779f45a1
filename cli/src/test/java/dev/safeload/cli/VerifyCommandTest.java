package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.CacheFixture;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

class VerifyCommandTest {
    @TempDir Path tmp;

    private static final byte[] WEIGHTS = CacheFixture.bytes(200_000, 4);

    private CacheFixture cache() {
        CacheFixture cache = new CacheFixture(tmp.resolve("hub"));
        cache.repo("model", "org/a")
                .commit(1)
                .lfs("w.bin", WEIGHTS)
                .file("c.json", "{}".getBytes(StandardCharsets.UTF_8))
                .ref("main");
        cache.repo("model", "org/b").commit(2).lfs("w.bin", CacheFixture.bytes(10, 5)).ref("main");
        return cache;
    }

    private static Path corrupt(CacheFixture cache) throws IOException {
        Path blob = cache.repo("model", "org/a").blob(CacheFixture.sha256(WEIGHTS));
        byte[] bad = WEIGHTS.clone();
        bad[100_000] ^= 1;
        Files.write(blob, bad);
        return blob;
    }

    @Test
    void exitsNonZeroNamingEachCorruptBlob() throws IOException {
        CacheFixture cache = cache();
        CliCapture.Outcome clean =
                CliCapture.inProcess("verify", "--cache-dir", cache.root().toString());
        assertEquals(0, clean.status(), clean.toString());
        assertTrue(clean.stdout().contains("Verified 3 blob(s)"), clean.stdout());
        assertTrue(clean.stdout().contains("all intact"), clean.stdout());

        Path blob = corrupt(cache);
        CliCapture.Outcome bad =
                CliCapture.inProcess("verify", "--cache-dir", cache.root().toString());
        assertEquals(1, bad.status(), bad.toString());
        assertEquals(1, bad.stderr().lines().count(), bad.stderr());
        assertTrue(
                bad.stderr().startsWith("model/org/a: " + blob + " is corrupt: sha256"),
                bad.stderr());
        assertTrue(bad.stdout().contains("1 corrupt"), bad.stdout());

        CliCapture.Outcome other =
                CliCapture.inProcess("verify", "org/b", "--cache-dir", cache.root().toString());
        assertEquals(0, other.status(), "only org/b was checked: " + other);
        assertEquals(
                1,
                CliCapture.inProcess("verify", "org/zzz", "--cache-dir", cache.root().toString())
                        .status());
    }

    /**
     * A cache that is read-only to the user: scan, verify and a dry-run delete work; a real delete
     * fails cleanly and loses nothing. As root, permissions do not bind, so the commands run as
     * {@code nobody} through {@code setpriv}, in a real process.
     */
    @Test
    void readOnlyCacheScansAndVerifies() throws Exception {
        CacheFixture cache = cache();
        Path blob = corrupt(cache);
        List<String> prefix = new ArrayList<>();
        String classPath = System.getProperty("java.class.path");
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            Assumptions.assumeTrue(
                    Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv to drop root");
            prefix.addAll(
                    List.of(
                            "/usr/bin/setpriv",
                            "--reuid=65534",
                            "--regid=65534",
                            "--clear-groups"));
            classPath = readableClassPath(classPath, tmp.resolve("cp"));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        makeReadOnly(cache.root());
        try {
            List<String> java = new ArrayList<>(prefix);
            java.addAll(CliCapture.javaCommand(classPath));

            CliCapture.Outcome scan =
                    CliCapture.run(
                            concat(java, "scan", "--cache-dir", cache.root().toString(), "--json"));
            assertEquals(0, scan.status(), scan.toString());
            assertTrue(scan.stdout().contains("\"model/org/a\""), scan.stdout());
            assertTrue(scan.stdout().contains("\"problems\" : [ ]"), scan.stdout());

            CliCapture.Outcome verify =
                    CliCapture.run(concat(java, "verify", "--cache-dir", cache.root().toString()));
            assertEquals(1, verify.status(), verify.toString());
            assertTrue(verify.stderr().contains(blob + " is corrupt"), verify.stderr());

            CliCapture.Outcome dryRun =
                    CliCapture.run(
                            concat(
                                    java,
                                    "delete",
                                    "org/a",
                                    "--dry-run",
                                    "--cache-dir",
                                    cache.root().toString()));
            assertEquals(0, dryRun.status(), dryRun.toString());

            CliCapture.Outcome delete =
                    CliCapture.run(
                            concat(
                                    java,
                                    "delete",
                                    "org/a",
                                    "--cache-dir",
                                    cache.root().toString()));
            assertEquals(1, delete.status(), delete.toString());
            assertTrue(delete.stderr().contains("Couldn't delete repo"), delete.stderr());
            assertArrayEquals(
                    Files.readAllBytes(
                            cache.repo("model", "org/b")
                                    .blob(CacheFixture.sha256(CacheFixture.bytes(10, 5)))),
                    CacheFixture.bytes(10, 5));
            assertTrue(
                    Files.exists(cache.repo("model", "org/a").dir().resolve("refs/main")),
                    "nothing lost");
        } finally {
            makeWritable(cache.root());
        }
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> out = new ArrayList<>(head);
        out.addAll(List.of(tail));
        return out;
    }

    /**
     * Class path entries that another user can read: jars under root's home are hard-linked (or
     * copied) out.
     */
    private static String readableClassPath(String classPath, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> out = new ArrayList<>();
        int i = 0;
        for (String entry : classPath.split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (Files.isRegularFile(p)) {
                Path copy = dir.resolve((i++) + "-" + p.getFileName());
                try {
                    Files.createLink(copy, p);
                } catch (IOException | UnsupportedOperationException e) {
                    Files.copy(p, copy);
                }
                out.add(copy.toString());
            } else {
                out.add(entry);
            }
        }
        return String.join(File.pathSeparator, out);
    }

    private static void makeReadOnly(Path root) throws IOException {
        chmodTree(root, "r-xr-xr-x", "r--r--r--");
    }

    private static void makeWritable(Path root) throws IOException {
        chmodTree(root, "rwxr-xr-x", "rw-r--r--");
    }

    private static void chmodTree(Path root, String folders, String files) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                if (!Files.isSymbolicLink(p)) {
                    Files.setPosixFilePermissions(
                            p,
                            PosixFilePermissions.fromString(
                                    Files.isDirectory(p) ? folders : files));
                }
            }
        }
    }
}
