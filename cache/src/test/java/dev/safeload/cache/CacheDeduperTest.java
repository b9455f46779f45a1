package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.CacheFixture;
import dev.safeload.cache.testing.HubScanOracle;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

class CacheDeduperTest {
    @TempDir Path tmp;

    private static final byte[] WEIGHTS = CacheFixture.bytes(4 << 20, 11);
    private static final byte[] CONFIG = "{\"layers\": 2}".getBytes(StandardCharsets.UTF_8);

    private static Object inode(Path p) throws IOException {
        return Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    private static CacheFixture cacheWithModel(Path root, int commitSeed) {
        CacheFixture cache = new CacheFixture(root);
        cache.repo("model", "org/m")
                .commit(commitSeed)
                .lfs("model.safetensors", WEIGHTS)
                .file("config.json", CONFIG)
                .ref("main");
        return cache;
    }

    @Test
    void identicalBlobsAcrossTwoCachesEndAsOneFileWhileReadersRead() throws Exception {
        CacheFixture a = cacheWithModel(tmp.resolve("a"), 1);
        CacheFixture b = cacheWithModel(tmp.resolve("b"), 2);
        // The same weights also in a second repository of cache b.
        b.repo("model", "org/m-copy").commit(3).lfs("weights.safetensors", WEIGHTS).ref("main");
        Path blobA = a.repo("model", "org/m").blob(CacheFixture.sha256(WEIGHTS));
        Path blobB = b.repo("model", "org/m").blob(CacheFixture.sha256(WEIGHTS));
        Path blobC = b.repo("model", "org/m-copy").blob(CacheFixture.sha256(WEIGHTS));
        assertNotEquals(inode(blobA), inode(blobB));
        long sizeA = CacheScanner.scan(a.root()).sizeOnDisk();
        long sizeB = CacheScanner.scan(b.root()).sizeOnDisk();

        // Readers open and read every copy through the snapshot links, over and over, during the
        // dedupe.
        List<Path> readPaths =
                List.of(
                        a.repo("model", "org/m").dir().resolve("snapshots"),
                        b.repo("model", "org/m").dir().resolve("snapshots"),
                        b.repo("model", "org/m-copy").dir().resolve("snapshots"));
        List<Path> files = new ArrayList<>();
        for (Path snapshots : readPaths) {
            try (Stream<Path> walk = Files.walk(snapshots)) {
                walk.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                        .forEach(files::add);
            }
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        DedupeReport report;
        try (ExecutorService readers = Executors.newFixedThreadPool(3)) {
            List<Future<?>> futures = new ArrayList<>();
            for (Path file : files) {
                futures.add(
                        readers.submit(
                                () -> {
                                    while (!stop.get()) {
                                        byte[] read = Files.readAllBytes(file);
                                        if (!Arrays.equals(WEIGHTS, read)) {
                                            throw new AssertionError(
                                                    "a reader saw different bytes in " + file);
                                        }
                                        reads.incrementAndGet();
                                    }
                                    return null;
                                }));
            }
            report = CacheDeduper.dedupe(List.of(a.root(), b.root()));
            stop.set(true);
            for (Future<?> f : futures) {
                f.get();
            }
        }
        assertTrue(reads.get() >= 3, "the readers ran");
        assertEquals(List.of(), report.messages());
        assertEquals(3, report.linked(), "two weights copies and one config copy");
        assertEquals(2L * WEIGHTS.length + CONFIG.length, report.bytesSaved());
        assertEquals(inode(blobA), inode(blobB));
        assertEquals(inode(blobA), inode(blobC));
        assertEquals(3L, ((Number) Files.getAttribute(blobA, "unix:nlink")).longValue());
        assertArrayEquals(WEIGHTS, Files.readAllBytes(blobC));
        try (Stream<Path> leftovers = Files.walk(tmp)) {
            assertEquals(
                    List.of(), leftovers.filter(p -> p.toString().endsWith(".dedupe")).toList());
        }
        // The caches read the same as before, to us and to huggingface_hub.
        assertEquals(sizeA, CacheScanner.scan(a.root()).sizeOnDisk());
        assertEquals(sizeB, CacheScanner.scan(b.root()).sizeOnDisk());
        assertEquals(
                WEIGHTS.length + CONFIG.length, CacheScanner.scan(b.root()).physicalSizeOnDisk());
        if (PythonOracle.available("huggingface_hub")) {
            for (CacheFixture cache : List.of(a, b)) {
                assertEquals(
                        HubScanOracle.reference(cache.root()),
                        HubScanOracle.ours(CacheScanner.scan(cache.root())));
            }
        }
        DedupeReport again = CacheDeduper.dedupe(List.of(a.root(), b.root()));
        assertEquals(0, again.linked(), "a second run has nothing left to do");
    }

    @Test
    void aCorruptCopyIsLeftAloneAndNotSpread() throws IOException {
        CacheFixture a = cacheWithModel(tmp.resolve("a"), 1);
        CacheFixture b = cacheWithModel(tmp.resolve("b"), 2);
        Path blobA = a.repo("model", "org/m").blob(CacheFixture.sha256(WEIGHTS));
        Path blobB = b.repo("model", "org/m").blob(CacheFixture.sha256(WEIGHTS));
        byte[] corrupt = WEIGHTS.clone();
        corrupt[12345] ^= 0x40;
        Files.write(blobA, corrupt);

        DedupeReport report = CacheDeduper.dedupe(List.of(a.root(), b.root()));
        assertNotEquals(inode(blobA), inode(blobB));
        assertArrayEquals(
                corrupt, Files.readAllBytes(blobA), "the corrupt copy is reported, not changed");
        assertArrayEquals(WEIGHTS, Files.readAllBytes(blobB));
        assertTrue(
                report.messages().stream()
                        .anyMatch(m -> m.contains(blobA.toString()) && m.contains("corrupt")),
                report.messages().toString());
        assertEquals(1, report.linked(), "config.json still deduplicated");
    }

    @Test
    void aLinkThatWouldTakeReadAccessAwayIsNotMade() throws IOException {
        CacheFixture a = cacheWithModel(tmp.resolve("a"), 1);
        CacheFixture b = cacheWithModel(tmp.resolve("b"), 2);
        Path blobA = a.repo("model", "org/m").blob(CacheFixture.sha256(WEIGHTS));
        Path blobB = b.repo("model", "org/m").blob(CacheFixture.sha256(WEIGHTS));
        // a's copy (kept: first found, equal link counts) is private to its owner; b's is readable
        // by
        // everyone. Linking b to it would lock everyone else out of b's cache, so both stay.
        Files.setPosixFilePermissions(
                blobA, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(
                blobB, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        DedupeReport report = CacheDeduper.dedupe(List.of(a.root(), b.root()));
        assertNotEquals(inode(blobA), inode(blobB));
        assertTrue(
                report.messages().stream()
                        .anyMatch(m -> m.contains("would change who can read it")),
                report.messages().toString());
    }

    @Test
    void copiesOnAnotherFilesystemAreSkippedWithAMessage() throws IOException {
        Path shm = Path.of("/dev/shm");
        Assumptions.assumeTrue(
                Files.isWritable(shm), "needs a writable /dev/shm (tmpfs) as a second filesystem");
        Assumptions.assumeFalse(
                Files.getFileStore(shm).equals(Files.getFileStore(tmp)),
                "/dev/shm is not separate here");
        Path other = Files.createTempDirectory(shm, "safeload-dedupe");
        try {
            CacheFixture a = cacheWithModel(tmp.resolve("a"), 1);
            CacheFixture b = cacheWithModel(other.resolve("b"), 2);
            DedupeReport report = CacheDeduper.dedupe(List.of(a.root(), b.root()));
            assertEquals(0, report.linked());
            assertTrue(
                    report.messages().stream()
                            .allMatch(m -> m.startsWith("not linked across filesystems")),
                    report.messages().toString());
            assertEquals(2, report.messages().size());
            assertArrayEquals(
                    WEIGHTS,
                    Files.readAllBytes(
                            b.repo("model", "org/m").blob(CacheFixture.sha256(WEIGHTS))));
        } finally {
            try (Stream<Path> walk = Files.walk(other)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
