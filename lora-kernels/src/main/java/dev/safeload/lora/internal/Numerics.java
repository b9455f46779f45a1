package dev.safeload.lora.internal;

import dev.safeload.lora.Precision;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Element conversions (safetensors data is little-endian) between the storage precisions and fp32,
 * the only place where rounding happens. F16 uses the JDK's IEEE binary16 conversions (round to
 * nearest even); BF16 keeps the top 16 bits of an fp32 with round to nearest even, NaN kept quiet,
 * as torch does.
 */
public final class Numerics {
    private static final ValueLayout.OfShort SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ThreadLocal<short[]> SCRATCH = ThreadLocal.withInitial(() -> new short[0]);

    private Numerics() {}

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040); // NaN: keep sign and payload top, force quiet
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** {@code value} rounded to {@code p} and widened back: what storing it would keep. */
    public static float round(float value, Precision p) {
        return switch (p) {
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(value));
            case BF16 -> bf16ToFloat(floatToBf16(value));
            case F32 -> value;
        };
    }

    /**
     * Reads {@code n} elements of precision {@code p} starting at element {@code index} into {@code
     * dst}.
     */
    public static void load(
            MemorySegment src, Precision p, long index, float[] dst, int dstOffset, int n) {
        if (p == Precision.F32) {
            MemorySegment.copy(src, FLOAT, index * 4, dst, dstOffset, n);
            return;
        }
        short[] raw = scratch(n);
        MemorySegment.copy(src, SHORT, index * 2, raw, 0, n);
        if (p == Precision.F16) {
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = Float.float16ToFloat(raw[i]);
            }
        } else {
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = Float.intBitsToFloat((raw[i] & 0xffff) << 16);
            }
        }
    }

    /** Rounds {@code n} fp32 values once to {@code p} and writes them at element {@code index}. */
    public static void store(
            float[] src, int srcOffset, MemorySegment dst, Precision p, long index, int n) {
        if (p == Precision.F32) {
            MemorySegment.copy(src, srcOffset, dst, FLOAT, index * 4, n);
            return;
        }
        short[] raw = scratch(n);
        if (p == Precision.F16) {
            for (int i = 0; i < n; i++) {
                raw[i] = Float.floatToFloat16(src[srcOffset + i]);
            }
        } else {
            for (int i = 0; i < n; i++) {
                raw[i] = floatToBf16(src[srcOffset + i]);
            }
        }
        MemorySegment.copy(raw, 0, dst, SHORT, index * 2, n);
    }

    /** Encodes fp32 values into a new byte array of precision {@code p}, little-endian. */
    public static byte[] encode(float[] values, Precision p) {
        byte[] out = new byte[Math.multiplyExact(values.length, p.byteSize())];
        store(values, 0, MemorySegment.ofArray(out), p, 0, values.length);
        return out;
    }

    /** Decodes little-endian elements of precision {@code p}. */
    public static float[] decode(MemorySegment bytes, Precision p) {
        float[] out = new float[Math.toIntExact(bytes.byteSize() / p.byteSize())];
        load(bytes, p, 0, out, 0, out.length);
        return out;
    }

    private static short[] scratch(int n) {
        short[] raw = SCRATCH.get();
        if (raw.length < n) {
            raw = new short[n];
            SCRATCH.set(raw);
        }
        return raw;
    }
}
