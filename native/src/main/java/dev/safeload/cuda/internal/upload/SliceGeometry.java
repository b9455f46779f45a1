package dev.safeload.cuda.internal.upload;

import dev.safeload.cuda.TensorSlice;

import java.util.Locale;

/**
 * Where a slice's bytes are in its tensor: {@code runs} runs of {@code runLength} bytes, {@code
 * runStride} bytes apart, the first at {@code firstOffset}. Slicing dimension {@code d} of a
 * row-major tensor keeps, for each index of the dimensions before {@code d}, one contiguous run
 * (the kept part of dimension {@code d} times everything after it); the runs of dimension 0 merge
 * into one.
 */
public record SliceGeometry(long runs, long runLength, long runStride, long firstOffset) {

    /** The whole tensor: one run. */
    public static SliceGeometry whole(long byteLength) {
        return new SliceGeometry(byteLength == 0 ? 0 : 1, byteLength, byteLength, 0);
    }

    /** The runs of {@code slice} of a tensor of {@code shape} with {@code bits}-bit elements. */
    public static SliceGeometry of(long[] shape, int bits, TensorSlice slice) {
        if (slice.dim() >= shape.length) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "slice dimension %d is not in a tensor of rank %d",
                            slice.dim(),
                            shape.length));
        }
        if (slice.end() > shape[slice.dim()]) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "slice [%d, %d) of dimension %d runs past its size %d",
                            slice.start(),
                            slice.end(),
                            slice.dim(),
                            shape[slice.dim()]));
        }
        if (bits % 8 != 0) {
            throw new IllegalArgumentException(
                    "cannot slice a tensor of " + bits + "-bit elements");
        }
        long outer = 1;
        for (int i = 0; i < slice.dim(); i++) {
            outer = Math.multiplyExact(outer, shape[i]);
        }
        long inner = bits / 8;
        for (int i = slice.dim() + 1; i < shape.length; i++) {
            inner = Math.multiplyExact(inner, shape[i]);
        }
        long runLength = Math.multiplyExact(slice.end() - slice.start(), inner);
        long runStride = Math.multiplyExact(shape[slice.dim()], inner);
        long first = Math.multiplyExact(slice.start(), inner);
        if (runLength == 0 || outer == 0) {
            return new SliceGeometry(0, 0, runStride, first);
        }
        if (runLength == runStride || outer == 1) {
            // The whole dimension is kept, or there is a single outer index: one contiguous run.
            return new SliceGeometry(1, Math.multiplyExact(outer, runLength), runStride, first);
        }
        return new SliceGeometry(outer, runLength, runStride, first);
    }

    /** Bytes the slice holds. */
    public long byteLength() {
        return runs * runLength;
    }

    /**
     * Receives one contiguous piece: {@code length} bytes at {@code sourceOffset} of the tensor,
     * for {@code destinationOffset}.
     */
    @FunctionalInterface
    public interface RunConsumer {
        void accept(long sourceOffset, long destinationOffset, long length);
    }

    /**
     * Calls {@code consumer} for each contiguous source piece of the slice's bytes {@code
     * [sliceOffset, sliceOffset + length)}, in order; destination offsets start at 0.
     */
    public void forEachRun(long sliceOffset, long length, RunConsumer consumer) {
        long done = 0;
        while (done < length) {
            long position = sliceOffset + done;
            long run = position / runLength;
            long within = position % runLength;
            long n = Math.min(runLength - within, length - done);
            consumer.accept(firstOffset + run * runStride + within, done, n);
            done += n;
        }
    }
}
