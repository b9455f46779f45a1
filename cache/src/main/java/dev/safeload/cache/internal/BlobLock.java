package dev.safeload.cache.internal;

import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Exclusive right to write one blob, held across threads of this JVM (a map of locks: a file lock
 * belongs to the whole process) and across processes ({@code FileChannel.lock} on {@code
 * .locks/<repo-folder>/<etag>.lock}, the path huggingface_hub locks). Where the file system cannot
 * lock (some Lustre, NFS or CIFS mounts, huggingface_hub issues #2399, #2038) the lock is
 * {@linkplain #exclusive() not exclusive} and the downloader must write a private temporary file
 * instead of the shared resumable one.
 */
public final class BlobLock implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.safeload.cache");
    private static final Map<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();
    private static final long WAIT_LOG_NANOS = 10_000_000_000L;

    private final ReentrantLock threadLock;
    private final FileChannel channel;
    private final FileLock fileLock;

    private BlobLock(ReentrantLock threadLock, FileChannel channel, FileLock fileLock) {
        this.threadLock = threadLock;
        this.channel = channel;
        this.fileLock = fileLock;
    }

    /** Blocks until this process and thread own {@code lockFile}; logs every 10 s while waiting. */
    public static BlobLock acquire(Path lockFile) {
        Path key = lockFile.toAbsolutePath().normalize();
        ReentrantLock threadLock = IN_PROCESS.computeIfAbsent(key, k -> new ReentrantLock());
        threadLock.lock();
        FileChannel channel = null;
        try {
            Files.createDirectories(key.getParent());
            channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            long start = System.nanoTime();
            long nextLog = start + WAIT_LOG_NANOS;
            while (true) {
                FileLock lock = tryLock(channel);
                if (lock != null) {
                    return new BlobLock(threadLock, channel, lock);
                }
                if (System.nanoTime() > nextLog) {
                    LOG.log(
                            System.Logger.Level.INFO,
                            "Still waiting to acquire lock on "
                                    + key
                                    + " (another process is downloading this file)");
                    nextLog += WAIT_LOG_NANOS;
                }
                Thread.sleep(20);
            }
        } catch (UnsupportedLockException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "cannot lock "
                            + key
                            + " ("
                            + e.getMessage()
                            + "); downloading to a private temporary file without cross-process"
                            + " resume");
            return new BlobLock(threadLock, channel, null);
        } catch (IOException e) {
            closeQuietly(channel);
            threadLock.unlock();
            throw new HubException(
                    HubError.Io,
                    "cannot create the lock file "
                            + key
                            + ": "
                            + e.getMessage()
                            + ". The cache must be writable to download into it.",
                    e);
        } catch (InterruptedException e) {
            closeQuietly(channel);
            threadLock.unlock();
            Thread.currentThread().interrupt();
            throw new HubException(HubError.Io, "interrupted while waiting for the lock " + key, e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            threadLock.unlock();
            throw e;
        }
    }

    private static FileLock tryLock(FileChannel channel) throws UnsupportedLockException {
        try {
            return channel.tryLock();
        } catch (IOException e) {
            throw new UnsupportedLockException(e.getMessage());
        }
    }

    /** Whether other processes are kept out; otherwise only this JVM's threads are. */
    public boolean exclusive() {
        return fileLock != null;
    }

    @Override
    public void close() {
        try {
            if (fileLock != null) {
                fileLock.release();
            }
        } catch (IOException ignored) {
            // closing the channel releases it anyway (huggingface_hub also swallows release errors)
        } finally {
            closeQuietly(channel);
            threadLock.unlock();
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    private static final class UnsupportedLockException extends IOException {
        private static final long serialVersionUID = 1L;

        UnsupportedLockException(String message) {
            super(message);
        }
    }
}
