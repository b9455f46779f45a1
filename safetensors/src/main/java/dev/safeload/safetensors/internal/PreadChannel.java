package dev.safeload.safetensors.internal;

import dev.safeload.safetensors.SafetensorsError;
import dev.safeload.safetensors.SafetensorsException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Positional reads ({@code pread(2)}) shared by many threads. A {@link FileChannel} is closed for
 * every thread when one reader is interrupted ({@code ClosedByInterruptException}); a loader that
 * cancels one task must not break the other readers, so the channel is reopened on that path and
 * the readers that saw it close retry.
 */
public final class PreadChannel implements AutoCloseable {
    /** Largest single read; bounds the ByteBuffer view of a destination segment. */
    private static final long CHUNK = 1L << 30;

    private final Path path;
    private final long size;
    private volatile FileChannel channel;
    private volatile boolean closed;

    private PreadChannel(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    /** Takes ownership of an open channel. */
    public static PreadChannel of(Path path, FileChannel channel) throws IOException {
        return new PreadChannel(path, channel, channel.size());
    }

    /** The file size when the channel was opened. */
    public long size() {
        return size;
    }

    /** Fills {@code dst} with the bytes at absolute {@code position}. */
    public void read(long position, MemorySegment dst) {
        long done = 0;
        long total = dst.byteSize();
        while (done < total) {
            long n = Math.min(CHUNK, total - done);
            ByteBuffer bb;
            try {
                bb = dst.asSlice(done, n).asByteBuffer();
            } catch (UnsupportedOperationException e) {
                // A heap segment over a non-byte array has no ByteBuffer view: bounce.
                byte[] tmp = new byte[(int) Math.min(n, 1 << 20)];
                read(position + done, MemorySegment.ofArray(tmp));
                MemorySegment.copy(MemorySegment.ofArray(tmp), 0, dst, done, tmp.length);
                done += tmp.length;
                continue;
            }
            readFully(bb, position + done);
            done += n;
        }
    }

    /** Fills {@code dst} (a byte array) with the bytes at absolute {@code position}. */
    public void read(long position, byte[] dst) {
        readFully(ByteBuffer.wrap(dst), position);
    }

    private void readFully(ByteBuffer bb, long position) {
        long base = position - bb.position();
        while (bb.hasRemaining()) {
            FileChannel c = channel;
            if (closed) {
                throw new IllegalStateException("safetensors file is closed: " + path);
            }
            try {
                int r = c.read(bb, base + bb.position());
                if (r < 0) {
                    throw new SafetensorsException(
                            SafetensorsError.Io,
                            String.format(
                                    Locale.ROOT,
                                    "%s: unexpected end of file at byte %d (was the file truncated"
                                            + " while open?)",
                                    path,
                                    base + bb.position()));
                }
            } catch (ClosedByInterruptException e) {
                reopen(c);
                throw new SafetensorsException(SafetensorsError.Io, "read interrupted: " + path, e);
            } catch (ClosedChannelException e) {
                // AsynchronousCloseException included: another reader was interrupted.
                if (closed) {
                    throw new IllegalStateException("safetensors file is closed: " + path, e);
                }
                reopen(c);
            } catch (IOException e) {
                throw new SafetensorsException(
                        SafetensorsError.Io, path + ": " + e.getMessage(), e);
            }
        }
    }

    private synchronized void reopen(FileChannel dead) {
        if (closed || channel != dead) {
            return;
        }
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new SafetensorsException(
                    SafetensorsError.Io, "cannot reopen " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            throw new SafetensorsException(
                    SafetensorsError.Io, "cannot close " + path + ": " + e.getMessage(), e);
        }
    }
}
