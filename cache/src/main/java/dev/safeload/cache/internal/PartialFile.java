package dev.safeload.cache.internal;

import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executor;

/**
 * The partial file of one blob download: written at any position, by one connection or by several
 * ranged ones at once, while its sha256 is computed in order on another thread.
 *
 * <p>Writes land with positional {@code pwrite}s straight from the HTTP client's buffers. The
 * digest follows the <em>frontier</em>, the end of the prefix written without gaps, on a thread of
 * {@code hashing}, so that hashing and writing overlap: bytes the frontier reaches while still held
 * in memory (those of the connection that carries the frontier, which for a single connection is
 * all of them) are hashed from those buffers; bytes written further ahead by other connections are
 * read back from the file, which the page cache still holds. Only buffers within {@link #RETAINED}
 * of the digest are held, so memory is bounded whatever the connections do; the connection that
 * carries the frontier pauses when it is more than {@link #LAG} ahead ({@link #pauseUntilHashed}),
 * so that its bytes need no read-back (reading back made a 1 GiB download a third slower in
 * benchmarks/hub/run.sh).
 *
 * <p>What a later attempt may resume is the frontier: {@link #keepPrefix()} cuts the file to it, so
 * that a kept partial file is always a gapless prefix, as a single-connection download leaves it;
 * {@link #open} hashes that prefix again (on the digest's thread, while the rest arrives).
 */
final class PartialFile implements AutoCloseable {
    /** How far the connection that carries the frontier may run ahead of the digest. */
    static final long LAG = 16L << 20;

    /** Buffers this close ahead of the digest are kept for it. */
    private static final long RETAINED = 2 * LAG;

    private static final int READ_BACK = 1 << 20;

    private final Path file;
    private final FileChannel channel;
    private final MessageDigest digest; // null when the etag is no sha256
    private final Executor hashing;
    private final WrittenRanges written = new WrittenRanges();

    /** Guards the digest's bookkeeping below; never held while hashing or doing I/O. */
    private final Object hashLock = new Object();

    private final TreeMap<Long, ByteBuffer> retained = new TreeMap<>();
    private final List<Waiter> waiters = new ArrayList<>();
    private long hashed;
    private boolean taskRunning;
    private boolean stepActive;
    private IOException hashFailure;
    private ByteBuffer readBack;

    private PartialFile(Path file, FileChannel channel, MessageDigest digest, Executor hashing) {
        this.file = file;
        this.channel = channel;
        this.digest = digest;
        this.hashing = hashing;
    }

    /**
     * Opens (or creates) {@code file}; its kept bytes, when they fit the expected size, are the
     * prefix a download resumes from; a longer file is emptied.
     */
    static PartialFile open(Path file, boolean hash, long expectedSize, Executor hashing)
            throws IOException {
        FileChannel channel =
                FileChannel.open(
                        file,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
        try {
            long kept = channel.size();
            if (kept > expectedSize) {
                channel.truncate(0);
                kept = 0;
            }
            PartialFile partial =
                    new PartialFile(file, channel, hash ? newSha256() : null, hashing);
            partial.written.add(0, kept);
            partial.scheduleHashing();
            return partial;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The end of the gapless written prefix: where a single connection continues. */
    long frontier() {
        return written.frontier();
    }

    /** Bytes written in all, gaps not counted (progress of ranged connections). */
    long writtenBytes() {
        return written.total();
    }

    /** The gaps in {@code [0, size)} not written yet, in order, as {@code {start, end}} pairs. */
    List<long[]> gaps(long size) {
        return written.gaps(size);
    }

    /**
     * Writes the buffer's remaining bytes at {@code position}. Thread-safe for disjoint ranges. A
     * failed write (disk full) throws {@link HubException} with {@link HubError#Io}; what was
     * written before stays valid.
     */
    void write(long position, ByteBuffer chunk) {
        ByteBuffer forDigest = digest == null ? null : chunk.duplicate();
        int n = chunk.remaining();
        try {
            long at = position;
            while (chunk.hasRemaining()) {
                at += channel.write(chunk, at);
            }
        } catch (IOException e) {
            throw new HubException(
                    HubError.Io,
                    "cannot write the download: " + e.getMessage() + " (is the disk full?)",
                    e);
        }
        if (digest != null) {
            retain(position, forDigest);
        }
        // Bytes are counted as written only once the buffer is retained (or not): the digest then
        // finds it when the frontier covers it.
        written.add(position, position + n);
        scheduleHashing();
    }

    /**
     * Whether the connection whose next byte is {@code cursor} must wait for the digest; if so,
     * {@code resume} runs (on the digest's thread) once the digest is less than half of {@link
     * #LAG} behind it. Only the connection that carries the frontier waits: the others write ahead
     * of a gap, and their bytes are read back later.
     */
    boolean pauseUntilHashed(long cursor, Runnable resume) {
        if (digest == null) {
            return false;
        }
        synchronized (hashLock) {
            if (cursor - hashed <= LAG || cursor > written.frontier() || hashFailure != null) {
                return false;
            }
            waiters.add(new Waiter(cursor, resume));
        }
        scheduleHashing();
        return true;
    }

    /** Empties the file: the server sent the whole body where a part was asked for. */
    void restart() throws IOException {
        synchronized (hashLock) {
            awaitStep();
            channel.truncate(0);
            written.clear();
            retained.clear();
            waiters.clear();
            hashed = 0;
            hashFailure = null;
            if (digest != null) {
                digest.reset();
            }
        }
    }

    /** Cuts the file to its gapless prefix, so that a later attempt can resume from it. */
    void keepPrefix() throws IOException {
        long frontier = written.frontier();
        if (channel.size() > frontier) {
            channel.truncate(frontier);
        }
    }

    /**
     * What is wrong with the bytes, or {@code null}: size always, sha256 for LFS etags. Waits for
     * the digest to reach the end.
     */
    String problem(String etag, long expectedSize) throws IOException {
        long actual = channel.size();
        if (actual != expectedSize || written.frontier() != expectedSize) {
            return String.format(
                    Locale.ROOT,
                    "its size is %d bytes, the server announced %d",
                    actual,
                    expectedSize);
        }
        if (digest != null) {
            String sha = awaitDigest(expectedSize);
            if (!sha.equals(etag)) {
                return "its sha256 is " + sha + ", the hub's LFS etag says " + etag;
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        synchronized (hashLock) {
            hashFailure = hashFailure != null ? hashFailure : new IOException("closed");
            while (taskRunning) {
                waitOnLock();
            }
            retained.clear();
            waiters.clear();
        }
        channel.close();
    }

    // ------------------------------------------------------------------ the digest

    private record Waiter(long cursor, Runnable resume) {}

    /** What the digest's next step hashes: a held buffer, or {@code [from, to)} read back. */
    private record Step(ByteBuffer held, long from, long to) {}

    /** Keeps a just-written buffer for the digest when it is due soon. */
    private void retain(long position, ByteBuffer buffer) {
        synchronized (hashLock) {
            if (buffer.hasRemaining() && position >= hashed && position - hashed < RETAINED) {
                retained.put(position, buffer);
            }
        }
    }

    private void scheduleHashing() {
        if (digest == null) {
            return;
        }
        synchronized (hashLock) {
            if (taskRunning
                    || hashFailure != null
                    || (hashed >= written.frontier() && waiters.isEmpty())) {
                return;
            }
            taskRunning = true;
        }
        try {
            hashing.execute(this::hashAvailable);
        } catch (RuntimeException e) { // the client is closing
            synchronized (hashLock) {
                taskRunning = false;
                hashFailure = new IOException("the download was stopped", e);
                hashLock.notifyAll();
            }
        }
    }

    /**
     * The digest's task: hashes up to the frontier, resuming paused connections as it catches up,
     * then ends; the next write starts another.
     */
    private void hashAvailable() {
        while (true) {
            List<Runnable> due;
            Step step = null;
            synchronized (hashLock) {
                due = waiters.isEmpty() ? List.of() : dueWaiters();
                if (due.isEmpty()) {
                    long frontier = written.frontier();
                    if (hashed >= frontier || hashFailure != null) {
                        taskRunning = false;
                        hashLock.notifyAll();
                        return;
                    }
                    step = nextStep(frontier);
                    stepActive = true;
                }
            }
            due.forEach(Runnable::run); // outside the lock: each asks for more of a body
            if (step != null) {
                long n = 0;
                IOException failure = null;
                try {
                    n = hash(step);
                } catch (IOException e) {
                    failure = e;
                }
                synchronized (hashLock) {
                    hashed += n;
                    if (failure != null) {
                        hashFailure = failure;
                    }
                    stepActive = false;
                    hashLock.notifyAll();
                }
            }
        }
    }

    /** Under the lock: the held buffer that covers {@link #hashed}, else a read-back. */
    private Step nextStep(long frontier) {
        Map.Entry<Long, ByteBuffer> first;
        while ((first = retained.firstEntry()) != null
                && first.getKey() + first.getValue().remaining() <= hashed) {
            retained.pollFirstEntry();
        }
        if (first != null && first.getKey() <= hashed) {
            retained.pollFirstEntry();
            ByteBuffer b = first.getValue();
            b.position(b.position() + (int) (hashed - first.getKey()));
            return new Step(b, 0, 0);
        }
        long end = first == null ? frontier : Math.min(frontier, first.getKey());
        return new Step(null, hashed, Math.min(end, hashed + READ_BACK));
    }

    /** Outside the lock: feeds one step to the digest; returns the bytes hashed. */
    private long hash(Step step) throws IOException {
        if (step.held() != null) {
            int n = step.held().remaining();
            digest.update(step.held());
            return n;
        }
        if (readBack == null) {
            readBack = ByteBuffer.allocateDirect(READ_BACK);
        }
        readBack.clear().limit((int) (step.to() - step.from()));
        long at = step.from();
        while (readBack.hasRemaining()) {
            int n = channel.read(readBack, at);
            if (n < 0) {
                throw new IOException("the partial file " + file + " ended at " + at);
            }
            at += n;
        }
        readBack.flip();
        digest.update(readBack);
        return step.to() - step.from();
    }

    /** Removes and returns the resumptions now due (all of them once hashing failed). */
    private List<Runnable> dueWaiters() {
        List<Runnable> due = new ArrayList<>();
        waiters.removeIf(
                w -> {
                    boolean ready = hashFailure != null || w.cursor() - hashed < LAG / 2;
                    if (ready) {
                        due.add(w.resume());
                    }
                    return ready;
                });
        return due;
    }

    private String awaitDigest(long size) throws IOException {
        scheduleHashing();
        synchronized (hashLock) {
            while (taskRunning || (hashed < size && hashFailure == null)) {
                if (!taskRunning && hashFailure == null && hashed < written.frontier()) {
                    taskRunning = true; // a write always schedules the digest; to be sure
                    hashing.execute(this::hashAvailable);
                }
                waitOnLock();
            }
            if (hashFailure != null) {
                throw hashFailure;
            }
            if (hashed != size) {
                throw new IOException("the digest stopped at " + hashed + " of " + size);
            }
            return HexFormat.of().formatHex(digest.digest());
        }
    }

    /** Under the lock: waits until no step is hashing outside it. */
    private void awaitStep() {
        while (stepActive) {
            waitOnLock();
        }
    }

    private void waitOnLock() {
        try {
            hashLock.wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(HubError.Io, "interrupted while checking a download", e);
        }
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** The byte ranges written so far, merged. */
    private static final class WrittenRanges {
        private final TreeMap<Long, Long> ranges = new TreeMap<>(); // start -> end

        synchronized void add(long start, long end) {
            if (end <= start) {
                return;
            }
            Map.Entry<Long, Long> before = ranges.floorEntry(start);
            if (before != null && before.getValue() >= start) {
                start = before.getKey();
                end = Math.max(end, before.getValue());
            }
            Map.Entry<Long, Long> after = ranges.ceilingEntry(start);
            while (after != null && after.getKey() <= end) {
                end = Math.max(end, after.getValue());
                ranges.remove(after.getKey());
                after = ranges.ceilingEntry(start);
            }
            ranges.put(start, end);
        }

        synchronized long frontier() {
            Long end = ranges.get(0L);
            return end == null ? 0 : end;
        }

        synchronized long total() {
            long sum = 0;
            for (Map.Entry<Long, Long> e : ranges.entrySet()) {
                sum += e.getValue() - e.getKey();
            }
            return sum;
        }

        synchronized List<long[]> gaps(long size) {
            List<long[]> gaps = new ArrayList<>();
            long at = 0;
            for (Map.Entry<Long, Long> e : ranges.entrySet()) {
                if (e.getKey() > at) {
                    gaps.add(new long[] {at, Math.min(e.getKey(), size)});
                }
                at = Math.max(at, e.getValue());
            }
            if (at < size) {
                gaps.add(new long[] {at, size});
            }
            return gaps;
        }

        synchronized void clear() {
            ranges.clear();
        }
    }
}
