package dev.safeload.cache.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The partial file of a download on a real file: positional writes from several threads, the digest
 * that follows the gapless prefix (from held buffers and by reading back), the pause of a
 * connection that runs ahead of the digest, and the prefix kept for a resume.
 */
class PartialFileTest {
    @TempDir Path dir;

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** Runs hash tasks only when told to, so that a test decides when the digest catches up. */
    static final class ManualExecutor implements java.util.concurrent.Executor {
        final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        void runAll() {
            Runnable t;
            while ((t = tasks.poll()) != null) {
                t.run();
            }
        }
    }

    @Test
    void inOrderWritesAreHashedWhileTheyArrive() throws Exception {
        byte[] data = random(3_000_000, 1);
        Path file = dir.resolve("blob.incomplete");
        ExecutorService hashing = Executors.newVirtualThreadPerTaskExecutor();
        try (PartialFile out = PartialFile.open(file, true, data.length, hashing)) {
            for (int at = 0; at < data.length; at += 65_536) {
                int n = Math.min(65_536, data.length - at);
                out.write(at, ByteBuffer.wrap(data, at, n).asReadOnlyBuffer());
            }
            assertEquals(data.length, out.frontier());
            assertNull(out.problem(sha256(data), data.length));
        } finally {
            hashing.shutdown();
        }
        assertArrayEquals(data, Files.readAllBytes(file));
    }

    @Test
    void chunksWrittenOutOfOrderByManyThreadsAreReadBackForTheDigest() throws Exception {
        byte[] data = random(40 << 20, 2); // beyond what is held in memory, so some is read back
        int chunk = 1 << 20;
        List<Integer> starts = new ArrayList<>();
        for (int at = 0; at < data.length; at += chunk) {
            starts.add(at);
        }
        Collections.shuffle(starts, new Random(5));
        Path file = dir.resolve("blob.incomplete");
        ExecutorService hashing = Executors.newVirtualThreadPerTaskExecutor();
        ExecutorService writers = Executors.newFixedThreadPool(4);
        try (PartialFile out = PartialFile.open(file, true, data.length, hashing)) {
            ConcurrentLinkedQueue<Integer> queue = new ConcurrentLinkedQueue<>(starts);
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                done.add(
                        writers.submit(
                                () -> {
                                    Integer at;
                                    while ((at = queue.poll()) != null) {
                                        for (int p = at; p < at + chunk; p += 100_000) {
                                            int n = Math.min(100_000, at + chunk - p);
                                            out.write(p, ByteBuffer.wrap(data, p, n));
                                        }
                                    }
                                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            assertEquals(data.length, out.frontier());
            assertEquals(List.of(), out.gaps(data.length));
            assertNull(out.problem(sha256(data), data.length));
        } finally {
            writers.shutdown();
            hashing.shutdown();
        }
    }

    @Test
    void theConnectionAtTheFrontierPausesUntilTheDigestCatchesUp() throws Exception {
        byte[] data = random(40 << 20, 3);
        ManualExecutor hashing = new ManualExecutor();
        AtomicInteger resumed = new AtomicInteger();
        try (PartialFile out =
                PartialFile.open(dir.resolve("blob.incomplete"), true, data.length, hashing)) {
            int at = 0;
            int piece = 1 << 20;
            while (at < (20 << 20)) {
                out.write(at, ByteBuffer.wrap(data, at, piece));
                at += piece;
            }
            // 20 MiB ahead of a digest that has not run yet: more than the allowed lag.
            assertTrue(out.pauseUntilHashed(at, resumed::incrementAndGet));
            assertEquals(0, resumed.get());
            // A connection writing further ahead, past a gap, never waits.
            out.write(30 << 20, ByteBuffer.wrap(data, 30 << 20, piece));
            assertFalse(out.pauseUntilHashed((30 << 20) + piece, () -> {}));
            hashing.runAll();
            assertEquals(1, resumed.get(), "resumed once the digest caught up");
            assertFalse(out.pauseUntilHashed(at, resumed::incrementAndGet));
            for (; at < data.length; at += piece) {
                if (at != (30 << 20)) {
                    out.write(at, ByteBuffer.wrap(data, at, piece));
                }
            }
            hashing.runAll();
            assertNull(out.problem(sha256(data), data.length));
        }
    }

    @Test
    void aFailedDownloadKeepsTheGaplessPrefixWhichTheNextOpenResumesAndHashes() throws Exception {
        byte[] data = random(1_000_000, 4);
        Path file = dir.resolve("blob.incomplete");
        ExecutorService hashing = Executors.newVirtualThreadPerTaskExecutor();
        try {
            try (PartialFile out = PartialFile.open(file, true, data.length, hashing)) {
                out.write(0, ByteBuffer.wrap(data, 0, 300_000));
                out.write(500_000, ByteBuffer.wrap(data, 500_000, 200_000));
                assertEquals(300_000, out.frontier());
                assertEquals(500_000, out.writtenBytes());
                out.keepPrefix();
            }
            assertEquals(300_000, Files.size(file));
            try (PartialFile out = PartialFile.open(file, true, data.length, hashing)) {
                assertEquals(300_000, out.frontier());
                out.write(300_000, ByteBuffer.wrap(data, 300_000, data.length - 300_000));
                assertNull(out.problem(sha256(data), data.length));
            }
        } finally {
            hashing.shutdown();
        }
    }

    @Test
    void wrongBytesAndAShortFileAreReported() throws Exception {
        byte[] data = random(500_000, 5);
        ExecutorService hashing = Executors.newVirtualThreadPerTaskExecutor();
        try (PartialFile out =
                PartialFile.open(dir.resolve("a.incomplete"), true, data.length, hashing)) {
            out.write(0, ByteBuffer.wrap(data, 0, 400_000));
            assertEquals(
                    "its size is 400000 bytes, the server announced 500000",
                    out.problem(sha256(data), data.length));
            out.write(400_000, ByteBuffer.wrap(new byte[100_000]));
            assertTrue(
                    out.problem(sha256(data), data.length).startsWith("its sha256 is "),
                    "a mismatch names the digest found");
        } finally {
            hashing.shutdown();
        }
    }

    @Test
    void aRestartForgetsWhatWasWrittenAndHashed() throws Exception {
        byte[] data = random(2_000_000, 6);
        ExecutorService hashing = Executors.newVirtualThreadPerTaskExecutor();
        try (PartialFile out =
                PartialFile.open(dir.resolve("b.incomplete"), true, data.length, hashing)) {
            out.write(0, ByteBuffer.wrap(new byte[700_000]));
            out.restart();
            assertEquals(0, out.frontier());
            out.write(0, ByteBuffer.wrap(data));
            assertNull(out.problem(sha256(data), data.length));
        } finally {
            hashing.shutdown();
        }
    }

    @Test
    void aBlobWithoutSha256IsCheckedForItsSizeOnly() throws IOException {
        ManualExecutor hashing = new ManualExecutor();
        try (PartialFile out = PartialFile.open(dir.resolve("c.incomplete"), false, 10, hashing)) {
            out.write(0, ByteBuffer.wrap(new byte[10]));
            assertNull(out.problem("0123456789abcdef0123456789abcdef01234567", 10));
            assertTrue(hashing.tasks.isEmpty(), "nothing to hash");
        }
    }
}
