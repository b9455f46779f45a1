package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.CacheFixture;
import dev.safeload.cache.testing.OtherUsers;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
        if (OtherUsers.root()) {
            Assumptions.assumeTrue(OtherUsers.canSwitchUser(), "needs setpriv to drop root");
            prefix.addAll(OtherUsers.asUser(65534, 65534, List.of()));
            // The checkout may sit under a 0700 folder (/root, mktemp -d) that nobody cannot enter.
            OtherUsers.openToAll(tmp);
            classPath = OtherUsers.shareableClassPath(tmp.resolve("cp"));
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
