package dev.safeload.lora.internal;

import dev.safeload.Cleanup;
import dev.safeload.cuda.CudaContext;
import dev.safeload.cuda.CudaEvent;
import dev.safeload.cuda.CudaStream;
import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.cuda.PinnedHostBuffer;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Small per-call operands (LoRA factors, GEMM pointer arrays) on their way to the device without a
 * host sync: each piece is written into pinned memory and copied asynchronously on the stream into
 * a matching device chunk.
 *
 * <p>The chunks form a ring. Pieces are bump-allocated from the current chunk; when it is full the
 * arena moves on to the next chunk whose last use the stream has passed, known from an event
 * recorded after the calls that read its pieces were queued ({@link #recordUses()}). Only when no
 * chunk is free yet and the ring holds {@code ringChunks} chunks does the host wait, on the event
 * of the chunk left longest ago. So an unbounded run of calls (a serving loop that never
 * synchronizes) uses at most {@code ringChunks} chunk pairs, with one event record per chunk filled
 * instead of a host sync. Allocating pinned memory costs milliseconds, so chunks are kept until
 * {@link #close()}; a call that stages more than the ring at once grows it, and {@link #trim()}
 * gives that back.
 */
public final class StagingArena implements AutoCloseable {
    /**
     * Chunk size: a 7B merge stages ~0.5 MiB of factors per module, so one chunk covers ~60
     * modules.
     */
    public static final long CHUNK_BYTES = 32L << 20;

    /**
     * Chunks in the ring: ~250 queued modules of a merge, far more than the GPU needs to stay busy.
     */
    public static final int RING_CHUNKS = 4;

    private static final long ALIGN =
            256; // cuBLAS wants 16-byte aligned operands; 256 keeps every piece on its own cache

    // lines

    /**
     * A pinned chunk, its device twin, and the event that tells when the stream is done with them.
     */
    private static final class Chunk implements AutoCloseable {
        final PinnedHostBuffer host;
        final DeviceBuffer device;
        final CudaEvent done;

        /** Pieces were handed out whose readers may not be queued yet: no event covers them. */
        boolean unrecorded;

        Chunk(PinnedHostBuffer host, DeviceBuffer device, CudaEvent done) {
            this.host = host;
            this.device = device;
            this.done = done;
        }

        long byteSize() {
            return host.byteSize();
        }

        @Override
        public void close() {
            new Cleanup().close(done, device, host).rethrow();
        }
    }

    private final CudaContext context;
    private final CudaStream stream;
    private final long chunkBytes;
    private final int ringChunks;

    /** In order of use: the chunk after {@link #current} was left longest ago. */
    private final List<Chunk> ring = new ArrayList<>();

    private Chunk current;
    private long offset;

    /** A ring of {@link #RING_CHUNKS} chunks of {@link #CHUNK_BYTES}. */
    public StagingArena(CudaContext context, CudaStream stream) {
        this(context, stream, CHUNK_BYTES, RING_CHUNKS);
    }

    /**
     * A ring of {@code ringChunks} chunks of {@code chunkBytes} (pieces larger than a chunk get one
     * of their own).
     */
    public StagingArena(CudaContext context, CudaStream stream, long chunkBytes, int ringChunks) {
        if (chunkBytes < ALIGN || ringChunks < 2) {
            throw new IllegalArgumentException(
                    "a staging ring needs chunks of at least "
                            + ALIGN
                            + " bytes and at least 2 of them, not "
                            + ringChunks
                            + " of "
                            + chunkBytes);
        }
        this.context = context;
        this.stream = stream;
        this.chunkBytes = chunkBytes;
        this.ringChunks = ringChunks;
    }

    /**
     * A staged piece: fill {@link #host()}, then {@link #upload()}; {@link #device()} is valid on
     * the stream after that.
     */
    public record Piece(MemorySegment host, DeviceBuffer device, CudaStream stream) {
        /** Enqueues the host-to-device copy on the stream. */
        public DeviceBuffer upload() {
            device.copyFromHostAsync(host, 0, stream);
            return device;
        }
    }

    /**
     * Reserves {@code bytes} (rounded up to the alignment). The piece stays reserved until the
     * caller has queued its readers and called {@link #recordUses()}, and the stream has passed
     * them.
     */
    public Piece allocate(long bytes) {
        long size = Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
        if (current == null || offset + size > current.byteSize()) {
            current = next(size);
            offset = 0;
        }
        current.unrecorded = true;
        Piece piece =
                new Piece(
                        current.host.segment().asSlice(offset, bytes),
                        current.device.view(offset, bytes),
                        stream);
        offset += size;
        return piece;
    }

    /**
     * Says that every piece handed out so far has its readers queued on the stream (or will never
     * have any): the chunks left since the last call become reusable once the stream passes this
     * point. The current chunk is recorded when it is left, after its last reader.
     */
    public void recordUses() {
        for (Chunk c : ring) {
            if (c.unrecorded && c != current) {
                c.done.record(stream);
                c.unrecorded = false;
            }
        }
    }

    /** Pinned bytes held, equal to the device bytes held. */
    public long reservedBytes() {
        return ring.stream().mapToLong(Chunk::byteSize).sum();
    }

    /**
     * Chunks that a ring of the configured size does not need; the caller has synchronized the
     * stream.
     */
    public void trim() {
        Cleanup cleanup = new Cleanup();
        for (Chunk c : List.copyOf(ring)) {
            if (ring.size() <= ringChunks && c.byteSize() <= chunkBytes) {
                continue;
            }
            if (c != current && !c.unrecorded) {
                ring.remove(c);
                cleanup.close(c);
            }
        }
        cleanup.rethrow();
    }

    /**
     * The chunk to continue in: a free one, a new one while the ring is short, else the oldest once
     * the stream is done with it.
     */
    private Chunk next(long size) {
        int after = current == null ? 0 : ring.indexOf(current) + 1;
        int n = ring.size();
        for (int i = 0; i < n; i++) {
            Chunk c = ring.get((after + i) % n);
            if (reusable(c, size) && c.done.isComplete()) {
                return c;
            }
        }
        if (n < ringChunks) {
            return add(after, size);
        }
        for (int i = 0; i < n; i++) {
            Chunk c = ring.get((after + i) % n);
            if (reusable(c, size)) {
                c.done.synchronize(); // the ring is full: wait for the stream to pass the oldest
                // chunk's readers
                return c;
            }
        }
        // Every chunk holds pieces whose readers are not queued yet (one call staging more than the
        // ring), or the piece is larger than any chunk: grow; trim() gives it back.
        return add(after, size);
    }

    private boolean reusable(Chunk c, long size) {
        return c != current && !c.unrecorded && c.byteSize() >= size;
    }

    /** A new chunk pair, placed at {@code index} so that the ring stays in order of use. */
    private Chunk add(int index, long size) {
        long bytes = Math.max(chunkBytes, size);
        PinnedHostBuffer host = null;
        DeviceBuffer device = null;
        try {
            host = context.allocatePinned(bytes);
            device = context.allocate(bytes);
            Chunk chunk = new Chunk(host, device, context.createEvent());
            ring.add(index, chunk);
            return chunk;
        } catch (RuntimeException e) {
            new Cleanup(e).close(device, host).rethrow();
            throw e;
        }
    }

    @Override
    public void close() {
        Cleanup cleanup = new Cleanup();
        ring.forEach(cleanup::close);
        ring.clear();
        current = null;
        cleanup.rethrow();
    }
}
