package dev.safeload.safetensors.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.safetensors.ReadOptions.Backend;
import dev.safeload.safetensors.ReaderChoice;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which filesystem holds a path, from mountinfo fixtures (a cluster node with NFS, Lustre, CIFS,
 * FUSE and 9p mounts, nested and bind mounts, a mount point mounted over, escaped names), and the
 * reader {@link Backend#AUTO} picks from it.
 */
class MountTableTest {
    static MountTable cluster() throws IOException {
        try (InputStream in = MountTableTest.class.getResourceAsStream("/mountinfo/cluster.txt")) {
            return MountTable.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @ParameterizedTest(name = "{0} is on {1}")
    @CsvSource({
        "/home/me/model.safetensors, ext4",
        "/, ext4",
        "/dev/shm/model.safetensors, tmpfs",
        "/mnt/models, nfs4",
        "/mnt/models/llama/model.safetensors, nfs4",
        // nested: a local disk mounted inside the NFS mount wins for its own subtree
        "/mnt/models/local-ssd/model.safetensors, xfs",
        "/mnt/models/local-ssdx/model.safetensors, nfs4",
        // whole components only: /mnt/modelsx is not under /mnt/models
        "/mnt/modelsx/model.safetensors, ext4",
        "/scratch/run1/model.safetensors, lustre",
        "'/mnt/shared drive/model.safetensors', cifs",
        // a bind mount of a subfolder of the NFS export carries the export's type
        "/srv/team-a/model.safetensors, nfs4",
        "/srv/team-b/model.safetensors, ext4",
        "/home/me/sshfs/model.safetensors, fuse.sshfs",
        "/mnt/wsl/c/model.safetensors, 9p",
        "/mnt/bound/model.safetensors, ext4",
        // mounted over: the later entry hides the earlier one
        "/mnt/over/model.safetensors, nfs",
    })
    void theLongestMountPointPrefixNamesTheFilesystem(String path, String type) throws IOException {
        assertEquals(type, cluster().mountOf(path).orElseThrow().type());
    }

    @Test
    void escapedSpacesTabsAndBackslashesInMountPointsAreDecoded() throws IOException {
        MountTable table = cluster();
        assertTrue(
                table.mounts().stream()
                        .anyMatch(m -> m.mountPoint().equals("/mnt/tab\tand\\backslash")));
        assertEquals("fuseblk", table.mountOf("/mnt/tab\tand\\backslash/x").orElseThrow().type());
        assertEquals("a\\b", MountTable.unescape("a\\b"), "a lone backslash stays");
        assertEquals("a\\09", MountTable.unescape("a\\09"), "9 is not an octal digit");
    }

    @Test
    void malformedLinesAreSkippedAndAnEmptyTableKnowsNothing() {
        MountTable table =
                MountTable.parse(
                        "garbage\n\n27 1 254:0 / / rw - ext4 /dev/vda rw\n1 2 3 4 /x rw no-dash\n");
        assertEquals(1, table.mounts().size());
        assertEquals("ext4", table.mountOf("/x/y").orElseThrow().type());
        assertTrue(MountTable.parse("").mountOf("/x").isEmpty());
    }

    @ParameterizedTest(name = "{0}: pread {1}")
    @CsvSource({
        "nfs, true",
        "nfs4, true",
        "lustre, true",
        "cifs, true",
        "smb3, true",
        "9p, true",
        "fuse, true",
        "fuseblk, true",
        "fuse.sshfs, true",
        "fuse.s3fs, true",
        "ceph, true",
        "ext4, false",
        "xfs, false",
        "btrfs, false",
        "tmpfs, false",
        "overlay, false",
        "unknown, false",
    })
    void networkAndFuseFilesystemsPreferPositionalReads(String type, boolean pread) {
        assertEquals(pread, MountTable.prefersPositionalReads(type));
    }

    @Test
    void autoPicksPreadOnNfsAndMmapOnExt4AndAnExplicitChoiceIsKept() throws IOException {
        Path dir = Files.createTempDirectory("mounts");
        try {
            Path file = Files.writeString(dir.resolve("f.safetensors"), "x");
            String real = file.toRealPath().toString();
            MountTable nfs =
                    MountTable.parse(
                            "1 0 0:1 / / rw - ext4 /dev/vda rw\n2 1 0:2 / "
                                    + real.replace(" ", "\\040")
                                    + " rw - nfs4 server:/x rw\n");
            MountTable ext4 = MountTable.parse("1 0 0:1 / / rw - ext4 /dev/vda rw\n");
            assertEquals(
                    new ReaderChoice(Backend.AUTO, Backend.PREAD, "nfs4"),
                    ReaderSelection.choose(file, Backend.AUTO, nfs));
            assertEquals(
                    new ReaderChoice(Backend.AUTO, Backend.MMAP, "ext4"),
                    ReaderSelection.choose(file, Backend.AUTO, ext4));
            assertEquals(
                    new ReaderChoice(Backend.MMAP, Backend.MMAP, "nfs4"),
                    ReaderSelection.choose(file, Backend.MMAP, nfs));
            assertEquals(
                    new ReaderChoice(Backend.PREAD, Backend.PREAD, "ext4"),
                    ReaderSelection.choose(file, Backend.PREAD, ext4));
            // A symlink is followed to the file it names (hub caches link snapshots to blobs).
            Path link = Files.createSymbolicLink(dir.resolve("link"), file);
            assertEquals(Backend.PREAD, ReaderSelection.choose(link, Backend.AUTO, nfs).backend());
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void thisMachinesOwnMountTableNamesTheTemporaryFolder() throws IOException {
        MountTable table = MountTable.current();
        if (Files.isReadable(Path.of("/proc/self/mountinfo"))) {
            assertFalse(table.mounts().isEmpty());
            Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toRealPath();
            assertTrue(table.mountOf(tmp.toString()).isPresent(), "the root mount at least");
        } else {
            assertTrue(table.mounts().isEmpty());
        }
    }
}
