package dev.safeload.safetensors.internal;

import dev.safeload.safetensors.DType;

/**
 * Bit-exact decoding of every floating-point dtype and round-to-nearest-even encoding into F32, F16
 * and BF16, with the special values of numpy (F16) and ml_dtypes (BF16, F8, F6, F4):
 *
 * <ul>
 *   <li>F8_E4M3 = float8_e4m3fn: bias 7, no infinities, S.1111.111 is NaN.
 *   <li>F8_E5M2: IEEE-style, bias 15, infinities and NaNs.
 *   <li>F8_E4M3FNUZ / F8_E5M2FNUZ: bias 8 / 16, no infinities, no negative zero, 0x80 is the NaN.
 *   <li>F8_E8M0 = float8_e8m0fnu: 2^(e-127), no sign, no zero, 0xFF is NaN.
 *   <li>F6_E2M3 (bias 1), F6_E3M2 (bias 3), F4 = e2m1 (bias 1): finite only.
 * </ul>
 *
 * Every one of these values is exact in a double, so any conversion decodes exactly and rounds
 * once, never twice.
 */
public final class FloatFormats {
    private static final float[] E4M3 = table(8, 4, 3, 7, Special.FN);
    private static final float[] E5M2 = table(8, 5, 2, 15, Special.IEEE);
    private static final float[] E4M3FNUZ = table(8, 4, 3, 8, Special.FNUZ);
    private static final float[] E5M2FNUZ = table(8, 5, 2, 16, Special.FNUZ);
    private static final float[] E8M0 = e8m0();
    private static final float[] E2M3 = table(6, 2, 3, 1, Special.NONE);
    private static final float[] E3M2 = table(6, 3, 2, 3, Special.NONE);
    private static final float[] E2M1 = table(4, 2, 1, 1, Special.NONE);

    private enum Special {
        IEEE,
        FN,
        FNUZ,
        NONE
    }

    private FloatFormats() {}

    /** The value table of a small format: index = raw bits. */
    public static float[] decodeTable(DType dtype) {
        return switch (dtype) {
            case F8_E4M3 -> E4M3;
            case F8_E5M2 -> E5M2;
            case F8_E4M3FNUZ -> E4M3FNUZ;
            case F8_E5M2FNUZ -> E5M2FNUZ;
            case F8_E8M0 -> E8M0;
            case F6_E2M3 -> E2M3;
            case F6_E3M2 -> E3M2;
            case F4 -> E2M1;
            default -> throw new IllegalArgumentException(dtype + " has no decode table");
        };
    }

    private static float[] table(
            int totalBits, int expBits, int manBits, int bias, Special special) {
        int n = 1 << totalBits;
        float[] t = new float[n];
        int signBit = 1 << (totalBits - 1);
        int expMax = (1 << expBits) - 1;
        for (int bits = 0; bits < n; bits++) {
            boolean negative = (bits & signBit) != 0;
            int e = (bits >> manBits) & expMax;
            int m = bits & ((1 << manBits) - 1);
            double v;
            if (e == 0) {
                v = Math.scalb((double) m, 1 - bias - manBits);
            } else {
                v = Math.scalb((double) ((1 << manBits) | m), e - bias - manBits);
            }
            switch (special) {
                case IEEE -> {
                    if (e == expMax) {
                        v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
                    }
                }
                case FN -> {
                    if (e == expMax && m == (1 << manBits) - 1) {
                        v = Double.NaN;
                    }
                }
                case FNUZ -> {
                    if (bits == signBit) {
                        v = Double.NaN; // the would-be negative zero; ml_dtypes reads it as -NaN
                    }
                }
                case NONE -> {}
            }
            t[bits] = (float) (negative ? -v : v);
        }
        return t;
    }

    private static float[] e8m0() {
        float[] t = new float[256];
        for (int e = 0; e < 255; e++) {
            t[e] = (float) Math.scalb(1.0, e - 127); // 2^-127 is an F32 subnormal, exact
        }
        t[255] = Float.NaN;
        return t;
    }

    /** F16 to BF16 and friends go through double: exact, then one rounding. */
    public static double decode(DType dtype, long bits) {
        return switch (dtype) {
            case F64 -> Double.longBitsToDouble(bits);
            case F32 -> Float.intBitsToFloat((int) bits);
            case F16 -> Float.float16ToFloat((short) bits);
            case BF16 -> Float.intBitsToFloat(((int) bits & 0xFFFF) << 16);
            case F8_E4M3, F8_E5M2, F8_E4M3FNUZ, F8_E5M2FNUZ, F8_E8M0, F6_E2M3, F6_E3M2, F4 ->
                    decodeTable(dtype)[(int) bits];
            default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
        };
    }

    /** F32 to F16, round to nearest even; NaN as numpy ({@code npy_floatbits_to_halfbits}). */
    public static short f32ToF16(float f) {
        if (f != f) {
            int b = Float.floatToRawIntBits(f);
            int h = ((b >>> 16) & 0x8000) | 0x7C00 | ((b & 0x7FFFFF) >>> 13);
            // numpy keeps the top payload bits and makes sure the result is still a NaN.
            return (short) ((h & 0x3FF) == 0 ? h + 1 : h);
        }
        return Float.floatToFloat16(f);
    }

    /** F32 to BF16, round to nearest even; NaN as ml_dtypes: sign kept, canonical quiet NaN. */
    public static short f32ToBf16(float f) {
        int b = Float.floatToRawIntBits(f);
        if (f != f) {
            return (short) (((b >>> 16) & 0x8000) | 0x7FC0);
        }
        return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
    }

    /**
     * F64 to F16, round to nearest even once; NaN as numpy ({@code npy_doublebits_to_halfbits}).
     */
    public static short f64ToF16(double d) {
        long b = Double.doubleToRawLongBits(d);
        if (d != d) {
            int h = (int) (((b >>> 48) & 0x8000) | 0x7C00 | ((b & 0xFFFFFFFFFFFFFL) >>> 42));
            return (short) ((h & 0x3FF) == 0 ? h + 1 : h);
        }
        return (short) roundToBinary(d, 5, 10);
    }

    /**
     * F64 to BF16 through F32, as ml_dtypes and torch convert it, so results are bit-identical with
     * theirs (in rare ties that is a double rounding; {@link #roundToBinary} would round once).
     */
    public static short f64ToBf16(double d) {
        return f32ToBf16((float) d);
    }

    /**
     * A value decoded from an ml_dtypes type (BF16, F8, F6, F4) to F16, as ml_dtypes does it: round
     * to nearest even, NaN as the canonical quiet NaN with the sign kept.
     */
    public static short smallToF16(double d) {
        if (d != d) {
            return (short) (((Double.doubleToRawLongBits(d) >>> 48) & 0x8000) | 0x7E00);
        }
        return (short) roundToBinary(d, 5, 10);
    }

    /**
     * F16 to F32 bits as numpy ({@code npy_halfbits_to_floatbits}): exact, a NaN's payload shifted
     * and not quieted (the hardware conversion behind {@link Float#float16ToFloat} quiets it).
     */
    public static int f16ToF32Bits(short h) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0) {
            return (h & 0x8000) << 16 | 0x7F80_0000 | (h & 0x3FF) << 13;
        }
        return Float.floatToRawIntBits(Float.float16ToFloat(h));
    }

    /**
     * F16 to F64 as numpy ({@code npy_halfbits_to_doublebits}): exact, NaN payload shifted, not
     * quieted.
     */
    public static double f16ToF64(short h) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0) {
            long sign = (long) (h & 0x8000) << 48;
            return Double.longBitsToDouble(
                    sign | 0x7FF0_0000_0000_0000L | (long) (h & 0x3FF) << 42);
        }
        return Float.float16ToFloat(h);
    }

    /**
     * Rounds a finite or infinite double to the IEEE binary format with {@code expBits} exponent
     * and {@code manBits} mantissa bits (round to nearest, ties to even; overflow to infinity;
     * gradual underflow to subnormals and signed zero). Returns the bit pattern.
     */
    static int roundToBinary(double d, int expBits, int manBits) {
        int sign = (int) (Double.doubleToRawLongBits(d) >>> 63) << (expBits + manBits);
        double a = Math.abs(d);
        int bias = (1 << (expBits - 1)) - 1;
        int infBits = ((1 << expBits) - 1) << manBits;
        if (a == 0) {
            return sign;
        }
        if (Double.isInfinite(a)) {
            return sign | infBits;
        }
        int e = Math.getExponent(a);
        if (e > bias) {
            return sign | infBits;
        }
        int minNormal = 1 - bias;
        if (e < minNormal) {
            e = minNormal; // subnormal: fixed scale, fewer significant bits
        }
        // Exact: scaling by a power of two keeps every bit, the result is below 2^(manBits+1).
        double q = Math.rint(Math.scalb(a, manBits - e));
        long k = (long) q;
        if (k >= 1L << (manBits + 1)) {
            k >>= 1;
            e++;
            if (e > bias) {
                return sign | infBits;
            }
        }
        if (k < 1L << manBits) {
            return sign | (int) k; // subnormal (exponent field 0) or zero
        }
        return sign | ((e + bias) << manBits) | (int) (k - (1L << manBits));
    }
}
