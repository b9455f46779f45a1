package dev.safeload.lora.internal;

import dev.safeload.cuda.CudaContext;
import dev.safeload.cuda.CudaStream;
import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.cuda.PinnedHostBuffer;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Small per-call operands (LoRA factors, GEMM pointer arrays) on their way to the device without a
 * host sync: each piece is written into pinned memory and copied asynchronously on the stream into
 * a matching device chunk. Pieces are bump-allocated from chunk pairs of at least
 * {@link #CHUNK_BYTES}; nothing is reused until {@link #reset()}, which the owner calls only after
 * the stream has passed every queued use. Allocating pinned memory costs milliseconds, so the
 * chunks are kept across resets.
 */
public final class StagingArena implements AutoCloseable {
    /** Chunk size: a 7B merge stages ~0.5 MiB of factors per module, so one chunk covers ~60 modules. */
    static final long CHUNK_BYTES = 32L << 20;
    private static final long ALIGN = 256; // cuBLAS wants 16-byte aligned operands; 256 keeps every piece on its own cache lines

    private record Chunk(PinnedHostBuffer host, DeviceBuffer device) {}

    private final CudaContext context;
    private final CudaStream stream;
    private final List<Chunk> chunks = new ArrayList<>();
    private int current;
    private long offset;
    private long used;

    public StagingArena(CudaContext context, CudaStream stream) {
        this.context = context;
        this.stream = stream;
    }

    /** A staged piece: fill {@link #host()}, then {@link #upload()}; {@link #device()} is valid on the stream after that. */
    public record Piece(MemorySegment host, DeviceBuffer device, CudaStream stream) {
        /** Enqueues the host-to-device copy on the stream. */
        public DeviceBuffer upload() {
            device.copyFromHostAsync(host, 0, stream);
            return device;
        }
    }

    /** Reserves {@code bytes} (rounded up to the alignment). */
    public Piece allocate(long bytes) {
        long size = Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
        while (current < chunks.size() && offset + size > chunks.get(current).host().byteSize()) {
            current++;
            offset = 0;
        }
        if (current == chunks.size()) {
            long chunkBytes = Math.max(CHUNK_BYTES, size);
            PinnedHostBuffer host = context.allocatePinned(chunkBytes);
            try {
                chunks.add(new Chunk(host, context.allocate(chunkBytes)));
            } catch (RuntimeException e) {
                host.close();
                throw e;
            }
            offset = 0;
        }
        Chunk chunk = chunks.get(current);
        Piece piece = new Piece(chunk.host().segment().asSlice(offset, bytes), chunk.device().view(offset, bytes), stream);
        offset += size;
        used += size;
        return piece;
    }

    /** Bytes handed out since the last reset. */
    public long used() {
        return used;
    }

    /** Makes every chunk reusable; only after the stream has finished with the pieces. */
    public void reset() {
        current = 0;
        offset = 0;
        used = 0;
    }

    @Override
    public void close() {
        for (Chunk c : chunks) {
            c.device().close();
            c.host().close();
        }
        chunks.clear();
    }
}
