package dev.safeload.safetensors.internal;

import static dev.safeload.safetensors.internal.ElementReader.F32;
import static dev.safeload.safetensors.internal.ElementReader.F64;
import static dev.safeload.safetensors.internal.ElementReader.I16;
import static dev.safeload.safetensors.internal.ElementReader.I32;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsError;
import dev.safeload.safetensors.SafetensorsException;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Bulk dtype conversion between floating-point tensors (see {@link FloatFormats} for the rules).
 */
public final class Converter {
    private Converter() {}

    /** Whether {@code to} is a conversion target: F32, F16, BF16 or F64. */
    public static boolean isTarget(DType to) {
        return to == DType.F32 || to == DType.F16 || to == DType.BF16 || to == DType.F64;
    }

    /** Refuses conversions this class does not do, naming the tensor. */
    public static void check(DType from, DType to, String name) {
        if (!isTarget(to)) {
            throw new SafetensorsException(
                    SafetensorsError.UnsupportedDtype,
                    String.format(
                            Locale.ROOT,
                            "cannot convert tensor %s to %s: targets are F32, F16, BF16 and F64",
                            Names.quote(name),
                            to.formatName()));
        }
        if (!from.isFloatingPoint()) {
            throw new SafetensorsException(
                    SafetensorsError.UnsupportedDtype,
                    String.format(
                            Locale.ROOT,
                            "cannot convert tensor %s of %s: only floating-point tensors convert",
                            Names.quote(name),
                            from.formatName()));
        }
    }

    /**
     * Converts {@code count} elements starting at element {@code first} of {@code src} into {@code
     * dst} (from its start). For sub-byte sources {@code first} must be a multiple of the packing
     * (2 for F4, 4 for F6) when the caller works in chunks.
     */
    public static void convert(
            MemorySegment src, DType from, long first, MemorySegment dst, DType to, long count) {
        int parts =
                (int) Math.min(Runtime.getRuntime().availableProcessors(), count / PARALLEL_PART);
        if (parts > 1 && src.isAccessibleBy(ANY_THREAD) && dst.isAccessibleBy(ANY_THREAD)) {
            // Large tensors convert on all cores (ml_dtypes and numpy use one). Parts start at
            // multiples of 4096 elements, a whole number of bytes for every dtype.
            long per = (count / parts + 4095) & ~4095L;
            IntStream.range(0, parts)
                    .parallel()
                    .forEach(
                            k -> {
                                long start = k * per;
                                long n = Math.min(per, count - start);
                                if (n > 0) {
                                    convertSerial(
                                            src,
                                            from,
                                            first + start,
                                            dst.asSlice(to.byteSize(start)),
                                            to,
                                            n);
                                }
                            });
            return;
        }
        convertSerial(src, from, first, dst, to, count);
    }

    /** Below this many elements per core, threads cost more than they save. */
    private static final long PARALLEL_PART = 1L << 21;

    /**
     * A thread that never runs: a segment accessible by it is accessible by every thread (global,
     * automatic, shared or heap), so pool threads may work on it; a confined one is not.
     */
    private static final Thread ANY_THREAD = Thread.ofPlatform().unstarted(() -> {});

    private static void convertSerial(
            MemorySegment src, DType from, long first, MemorySegment dst, DType to, long count) {
        if (from == to) {
            long b = from.byteSize(count);
            MemorySegment.copy(src, from.byteSize(first), dst, 0, b);
            return;
        }
        switch (from) {
            case BF16 -> {
                if (to == DType.F32) {
                    bf16ToF32(src, first, dst, count);
                    return;
                }
            }
            case F16 -> {
                if (to == DType.F32) {
                    f16ToF32(src, first, dst, count);
                    return;
                }
                if (to == DType.F64) {
                    for (long i = 0; i < count; i++) {
                        dst.set(F64, i * 8, FloatFormats.f16ToF64(src.get(I16, (first + i) * 2)));
                    }
                    return;
                }
            }
            case F32 -> {
                switch (to) {
                    case F16 -> f32ToHalf(src, first, dst, count, false);
                    case BF16 -> f32ToHalf(src, first, dst, count, true);
                    default -> {
                        for (long i = 0; i < count; i++) {
                            dst.set(F64, i * 8, src.get(F32, (first + i) * 4));
                        }
                    }
                }
                return;
            }
            default -> {}
        }
        // General path: every float value is exact in a double; decode, then round into the target.
        for (long i = 0; i < count; i++) {
            double v = FloatFormats.decode(from, ElementReader.rawBits(src, from, first + i));
            switch (to) {
                case F32 -> dst.set(F32, i * 4, (float) v);
                case F64 -> dst.set(F64, i * 8, v);
                case F16 ->
                        dst.set(
                                I16,
                                i * 2,
                                from == DType.F64
                                        ? FloatFormats.f64ToF16(v)
                                        : FloatFormats.smallToF16(v));
                case BF16 -> dst.set(I16, i * 2, FloatFormats.f64ToBf16(v));
                default -> throw new AssertionError(to);
            }
        }
    }

    /**
     * The hot paths work on heap chunks: one bulk copy in, a loop over plain arrays (which the JIT
     * vectorizes), one bulk copy out; element-wise segment accesses run an order of magnitude
     * slower.
     */
    private static final int CHUNK = 8192;

    private static void bf16ToF32(MemorySegment src, long first, MemorySegment dst, long count) {
        short[] in = new short[CHUNK];
        int[] out = new int[CHUNK];
        for (long done = 0; done < count; done += CHUNK) {
            int n = (int) Math.min(CHUNK, count - done);
            MemorySegment.copy(src, I16, (first + done) * 2, in, 0, n);
            for (int i = 0; i < n; i++) {
                out[i] = in[i] << 16; // BF16 is the top half of an F32, NaN payloads included
            }
            MemorySegment.copy(out, 0, dst, I32, done * 4, n);
        }
    }

    private static void f16ToF32(MemorySegment src, long first, MemorySegment dst, long count) {
        short[] in = new short[CHUNK];
        float[] out = new float[CHUNK];
        for (long done = 0; done < count; done += CHUNK) {
            int n = (int) Math.min(CHUNK, count - done);
            MemorySegment.copy(src, I16, (first + done) * 2, in, 0, n);
            for (int i = 0; i < n; i++) {
                out[i] = Float.float16ToFloat(in[i]);
            }
            MemorySegment.copy(out, 0, dst, F32, done * 4, n);
            for (int i = 0; i < n; i++) {
                short h = in[i];
                if ((h & 0x7E00) == 0x7C00 && (h & 0x1FF) != 0) {
                    // A signalling NaN: the hardware conversion quiets it, numpy keeps it.
                    dst.set(I32, (done + i) * 4, FloatFormats.f16ToF32Bits(h));
                }
            }
        }
    }

    private static void f32ToHalf(
            MemorySegment src, long first, MemorySegment dst, long count, boolean bf16) {
        float[] in = new float[CHUNK];
        short[] out = new short[CHUNK];
        for (long done = 0; done < count; done += CHUNK) {
            int n = (int) Math.min(CHUNK, count - done);
            MemorySegment.copy(src, F32, (first + done) * 4, in, 0, n);
            if (bf16) {
                for (int i = 0; i < n; i++) {
                    out[i] = FloatFormats.f32ToBf16(in[i]);
                }
            } else {
                for (int i = 0; i < n; i++) {
                    out[i] = FloatFormats.f32ToF16(in[i]);
                }
            }
            MemorySegment.copy(out, 0, dst, I16, done * 2, n);
        }
    }
}
