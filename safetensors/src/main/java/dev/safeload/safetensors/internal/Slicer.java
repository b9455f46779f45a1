package dev.safeload.safetensors.internal;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsError;
import dev.safeload.safetensors.SafetensorsException;
import dev.safeload.safetensors.SliceSpec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * numpy basic indexing over a C-order tensor. Ranges are normalised as CPython's {@code
 * PySlice_AdjustIndices} does (negative bounds count from the end, out-of-range bounds are clamped,
 * the defaults depend on the sign of the step); integer indices must be in range. The selection is
 * then walked as runs of contiguous elements: one run is a view, several are copied.
 */
public final class Slicer {
    private Slicer() {}

    /** The sliced shape and bytes. */
    public record Result(long[] shape, MemorySegment data, boolean copied) {}

    public static Result slice(
            String name, DType dtype, long[] shape, MemorySegment data, SliceSpec spec) {
        int rank = shape.length;
        List<SliceSpec.Indexer> ix = expand(spec, rank);
        long[] start = new long[rank];
        long[] count = new long[rank];
        long[] step = new long[rank];
        List<Long> outShape = new ArrayList<>();
        for (int d = 0; d < rank; d++) {
            long n = shape[d];
            SliceSpec.Indexer i = d < ix.size() ? ix.get(d) : SliceSpec.range(null, null);
            switch (i) {
                case SliceSpec.Index(long k) -> {
                    long p = k < 0 ? k + n : k;
                    if (p < 0 || p >= n) {
                        throw new SafetensorsException(
                                SafetensorsError.InvalidSlice,
                                String.format(
                                        Locale.ROOT,
                                        "index %d is out of bounds for axis %d with size %d (tensor"
                                                + " %s)",
                                        k,
                                        d,
                                        n,
                                        Names.quote(name)));
                    }
                    start[d] = p;
                    count[d] = 1;
                    step[d] = 1;
                }
                case SliceSpec.Range r -> {
                    long st = r.step();
                    long lo = adjust(r.start(), n, st, st < 0 ? n - 1 : 0);
                    long hi = adjust(r.stop(), n, st, st < 0 ? -1 : n);
                    long c;
                    if (st > 0) {
                        c = lo < hi ? (hi - lo - 1) / st + 1 : 0;
                    } else {
                        c = hi < lo ? (lo - hi - 1) / -st + 1 : 0;
                    }
                    start[d] = c == 0 ? 0 : lo;
                    count[d] = c;
                    step[d] = c <= 1 ? 1 : st;
                    outShape.add(c);
                }
                case SliceSpec.Ellipsis e -> throw new AssertionError("expanded");
            }
        }
        long[] newShape = outShape.stream().mapToLong(Long::longValue).toArray();
        long total = 1;
        for (long c : count) {
            total *= c; // bounded by the source element count
        }
        int bits = dtype.bits();
        if (total == 0) {
            return new Result(newShape, data.asSlice(0, 0), false);
        }
        long[] stride = new long[rank];
        long s = 1;
        for (int d = rank - 1; d >= 0; d--) {
            stride[d] = s;
            s *= shape[d];
        }
        // Innermost dimensions taken whole with step 1 merge into one run; the first dimension
        // above them joins the run if its step is 1.
        int k = rank - 1;
        long run = 1;
        while (k >= 0 && start[k] == 0 && count[k] == shape[k] && step[k] == 1) {
            run *= shape[k];
            k--;
        }
        if (k >= 0 && step[k] == 1) {
            run *= count[k];
            k--;
        }
        // Dimensions 0..k are walked; each position gives one run of `run` elements.
        long runs = 1;
        for (int d = 0; d <= k; d++) {
            runs *= count[d];
        }
        long base = 0;
        for (int d = 0; d < rank; d++) {
            base += start[d] * stride[d];
        }
        if (runs == 1) {
            checkBits(name, base, run, bits);
            return new Result(
                    newShape, data.asSlice(bitsToBytes(base, bits), bitsToBytes(run, bits)), false);
        }
        checkBits(name, 0, run, bits);
        long runBytes = bitsToBytes(run, bits);
        MemorySegment out = Arena.ofAuto().allocate(runBytes * runs, 8);
        long[] pos = new long[k + 1];
        long outOff = 0;
        for (long r = 0; r < runs; r++) {
            long off = base;
            for (int d = 0; d <= k; d++) {
                off += pos[d] * step[d] * stride[d];
            }
            checkBits(name, off, run, bits);
            MemorySegment.copy(data, bitsToBytes(off, bits), out, outOff, runBytes);
            outOff += runBytes;
            for (int d = k; d >= 0; d--) {
                if (++pos[d] < count[d]) {
                    break;
                }
                pos[d] = 0;
            }
        }
        return new Result(newShape, out, true);
    }

    private static long adjust(Long bound, long n, long step, long dflt) {
        if (bound == null) {
            return dflt;
        }
        long b = bound;
        if (b < 0) {
            b += n;
            if (b < 0) {
                b = step < 0 ? -1 : 0;
            }
        } else if (b >= n) {
            b = step < 0 ? n - 1 : n;
        }
        return b;
    }

    private static List<SliceSpec.Indexer> expand(SliceSpec spec, int rank) {
        List<SliceSpec.Indexer> in = spec.indexers();
        int real = 0;
        int ellipsis = -1;
        for (int i = 0; i < in.size(); i++) {
            if (in.get(i) instanceof SliceSpec.Ellipsis) {
                ellipsis = i;
            } else {
                real++;
            }
        }
        if (real > rank) {
            throw new SafetensorsException(
                    SafetensorsError.InvalidSlice,
                    String.format(
                            Locale.ROOT,
                            "too many indices: the tensor is %d-dimensional, but %d were indexed"
                                    + " (slice `%s`)",
                            rank,
                            real,
                            spec));
        }
        if (ellipsis < 0) {
            return in;
        }
        List<SliceSpec.Indexer> out = new ArrayList<>(in.subList(0, ellipsis));
        for (int i = 0; i < rank - real; i++) {
            out.add(SliceSpec.range(null, null));
        }
        out.addAll(in.subList(ellipsis + 1, in.size()));
        return out;
    }

    private static void checkBits(String name, long firstElement, long elements, int bits) {
        if (bits < 8 && ((firstElement * bits) % 8 != 0 || (elements * bits) % 8 != 0)) {
            throw new SafetensorsException(
                    SafetensorsError.MisalignedSlice,
                    String.format(
                            Locale.ROOT,
                            "the slice of sub-byte tensor %s does not start and end on byte"
                                    + " boundaries (%d elements of %d bits at element %d)",
                            Names.quote(name),
                            elements,
                            bits,
                            firstElement));
        }
    }

    private static long bitsToBytes(long elements, int bits) {
        return elements * bits / 8;
    }
}
