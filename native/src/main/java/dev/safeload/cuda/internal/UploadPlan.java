package dev.safeload.cuda.internal;

import dev.safeload.cuda.TensorSlice;
import dev.safeload.safetensors.DType;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What an upload does, decided before any byte moves: where each tensor goes in the model's one
 * device arena (each at a multiple of {@link #ALIGNMENT}), and the chunks the reader threads fill
 * and the copy engine moves, each at most one bounce buffer.
 *
 * <p>A <em>direct</em> chunk is an arena byte range: its bounce buffer is laid out exactly as the
 * arena, so several small tensors (with their alignment padding, zeroed) go in one copy and a large
 * tensor in several. A <em>converting</em> chunk holds source-dtype elements of one tensor; the
 * engine copies them to device scratch and a kernel writes the converted elements into the arena.
 */
public final class UploadPlan {
    /** Device alignment of every tensor: cudaMalloc's own, and enough for any vectorized load. */
    public static final long ALIGNMENT = 256;

    /**
     * One tensor's place in the arena.
     *
     * @param source the tensor read
     * @param outputDtype its dtype in device memory
     * @param outputShape its shape in device memory (sliced)
     * @param geometry where the (sliced) bytes are in the source tensor
     * @param conversion the on-device conversion, if any
     * @param arenaOffset where it starts in the arena
     * @param outputBytes its size in device memory
     */
    public record PlannedTensor(
            SourceTensor source,
            DType outputDtype,
            long[] outputShape,
            SliceGeometry geometry,
            Optional<Conversion> conversion,
            long arenaOffset,
            long outputBytes) {
        /** Bytes read from the source. */
        public long sourceBytes() {
            return geometry.byteLength();
        }
    }

    /**
     * Part of one tensor's (sliced) bytes, {@code [sliceOffset, sliceOffset + length)}, at {@code
     * bounceOffset}.
     */
    public record Piece(PlannedTensor tensor, long sliceOffset, long length, long bounceOffset) {}

    /**
     * One unit of work: fill {@code bounceBytes} of a bounce buffer from {@code pieces}, then copy
     * it to the arena at {@code arenaOffset} (direct) or convert it into the arena there.
     */
    public record Chunk(
            int index,
            List<Piece> pieces,
            long bounceBytes,
            long arenaOffset,
            Optional<Conversion> conversion) {
        /** Elements a converting chunk converts. */
        public long elements() {
            return conversion.map(c -> bounceBytes / c.sourceBytes()).orElse(0L);
        }
    }

    /** What to do with one tensor: the slice and the dtype wanted (either may be absent). */
    public record Request(
            SourceTensor tensor, Optional<TensorSlice> slice, Optional<DType> dtype) {}

    private final List<PlannedTensor> tensors;
    private final List<Chunk> chunks;
    private final long arenaBytes;
    private final long chunkBytes;

    private UploadPlan(
            List<PlannedTensor> tensors, List<Chunk> chunks, long arenaBytes, long chunkBytes) {
        this.tensors = tensors;
        this.chunks = chunks;
        this.arenaBytes = arenaBytes;
        this.chunkBytes = chunkBytes;
    }

    /**
     * Lays out {@code requests} (in order) in one arena and cuts the work into chunks of at most
     * {@code chunkBytes} (a multiple of 8, so converting chunks hold whole elements).
     */
    public static UploadPlan of(List<Request> requests, long chunkBytes) {
        if (chunkBytes < ALIGNMENT || chunkBytes % 8 != 0) {
            throw new IllegalArgumentException(
                    "chunk size must be a multiple of 8 and at least "
                            + ALIGNMENT
                            + " bytes, not "
                            + chunkBytes);
        }
        List<PlannedTensor> tensors = new ArrayList<>();
        long offset = 0;
        for (Request request : requests) {
            PlannedTensor planned = place(request, offset);
            tensors.add(planned);
            offset = align(planned.arenaOffset() + planned.outputBytes());
        }
        return new UploadPlan(List.copyOf(tensors), cut(tensors, chunkBytes), offset, chunkBytes);
    }

    private static PlannedTensor place(Request request, long offset) {
        SourceTensor source = request.tensor();
        long[] shape = source.shape();
        SliceGeometry geometry;
        try {
            geometry =
                    request.slice()
                            .map(s -> SliceGeometry.of(shape, source.bits(), s))
                            .orElseGet(() -> SliceGeometry.whole(source.byteLength()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot slice " + source + ": " + e.getMessage(), e);
        }
        request.slice().ifPresent(s -> shape[s.dim()] = s.end() - s.start());
        DType dtype = request.dtype().orElse(source.dtype());
        Optional<Conversion> conversion = Optional.empty();
        long outputBytes = geometry.byteLength();
        if (dtype != source.dtype()) {
            conversion =
                    Optional.of(
                            Conversion.of(source.dtype(), dtype)
                                    .orElseThrow(() -> unsupportedConversion(source, dtype)));
            outputBytes =
                    geometry.byteLength()
                            / conversion.get().sourceBytes()
                            * conversion.get().targetBytes();
        }
        return new PlannedTensor(
                source, dtype, shape, geometry, conversion, align(offset), outputBytes);
    }

    private static IllegalArgumentException unsupportedConversion(
            SourceTensor source, DType target) {
        return new IllegalArgumentException(
                String.format(
                        Locale.ROOT,
                        "cannot convert %s from %s to %s on the device (supported: %s)",
                        source.name(),
                        source.dtype().formatName(),
                        target.formatName(),
                        Conversion.supportedText()));
    }

    private static List<Chunk> cut(List<PlannedTensor> tensors, long chunkBytes) {
        List<Chunk> chunks = new ArrayList<>();
        List<Piece> open = new ArrayList<>();
        long openStart = -1;
        for (PlannedTensor t : tensors) {
            if (t.conversion().isPresent()) {
                openStart = flush(chunks, open, openStart);
                long step =
                        chunkBytes
                                / t.conversion().get().sourceBytes()
                                * t.conversion().get().sourceBytes();
                for (long done = 0; done < t.sourceBytes(); done += step) {
                    long n = Math.min(step, t.sourceBytes() - done);
                    long elementsBefore = done / t.conversion().get().sourceBytes();
                    chunks.add(
                            new Chunk(
                                    chunks.size(),
                                    List.of(new Piece(t, done, n, 0)),
                                    n,
                                    t.arenaOffset()
                                            + elementsBefore * t.conversion().get().targetBytes(),
                                    t.conversion()));
                }
                continue;
            }
            long done = 0;
            while (done < t.sourceBytes()) {
                long at = t.arenaOffset() + done;
                if (openStart >= 0 && at + 1 - openStart > chunkBytes) {
                    openStart = flush(chunks, open, openStart);
                }
                if (openStart < 0) {
                    openStart = at;
                }
                long n = Math.min(t.sourceBytes() - done, openStart + chunkBytes - at);
                open.add(new Piece(t, done, n, at - openStart));
                done += n;
            }
        }
        flush(chunks, open, openStart);
        return List.copyOf(chunks);
    }

    /** Closes the open direct chunk, if any; returns the new (empty) start. */
    private static long flush(List<Chunk> chunks, List<Piece> open, long openStart) {
        if (!open.isEmpty()) {
            Piece last = open.getLast();
            chunks.add(
                    new Chunk(
                            chunks.size(),
                            List.copyOf(open),
                            last.bounceOffset() + last.length(),
                            openStart,
                            Optional.empty()));
            open.clear();
        }
        return -1;
    }

    static long align(long offset) {
        return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    public List<PlannedTensor> tensors() {
        return tensors;
    }

    public List<Chunk> chunks() {
        return chunks;
    }

    /**
     * Bytes of the arena (at least one alignment unit, as the driver refuses empty allocations).
     */
    public long arenaBytes() {
        return Math.max(arenaBytes, ALIGNMENT);
    }

    /** The largest chunk: the bounce buffer and device scratch size. */
    public long chunkBytes() {
        return chunkBytes;
    }

    /** Bytes that cross the bus. */
    public long transferBytes() {
        return chunks.stream().mapToLong(Chunk::bounceBytes).sum();
    }
}
