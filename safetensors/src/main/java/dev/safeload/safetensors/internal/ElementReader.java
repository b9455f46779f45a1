package dev.safeload.safetensors.internal;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsError;
import dev.safeload.safetensors.SafetensorsException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reads one element of a little-endian, possibly unaligned tensor. Sub-byte types are unpacked
 * least-significant bits first: F4 element {@code 2k} is the low nibble of byte {@code k} (the
 * {@code float4_e2m1fn_x2} convention), and F6 element {@code i} is bits {@code [6i, 6i+6)} of the
 * little-endian bit stream (the format itself only fixes the byte count).
 */
public final class ElementReader {
    public static final ValueLayout.OfShort I16 =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt I32 =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong I64 =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfFloat F32 =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfDouble F64 =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ElementReader() {}

    /** The element's bits, zero-extended (sign bits included as stored). */
    public static long rawBits(MemorySegment s, DType dtype, long i) {
        return switch (dtype.bits()) {
            case 4 -> {
                int b = s.get(ValueLayout.JAVA_BYTE, i >>> 1);
                yield (i & 1) == 0 ? b & 0xF : (b >>> 4) & 0xF;
            }
            case 6 -> {
                long bit = i * 6;
                long byteIndex = bit >>> 3;
                int shift = (int) (bit & 7);
                int v = s.get(ValueLayout.JAVA_BYTE, byteIndex) & 0xFF;
                if (shift > 2) {
                    v |= (s.get(ValueLayout.JAVA_BYTE, byteIndex + 1) & 0xFF) << 8;
                }
                yield (v >>> shift) & 0x3F;
            }
            case 8 -> s.get(ValueLayout.JAVA_BYTE, i) & 0xFFL;
            case 16 -> s.get(I16, i * 2) & 0xFFFFL;
            case 32 -> s.get(I32, i * 4) & 0xFFFF_FFFFL;
            case 64 -> s.get(I64, i * 8);
            default -> throw new AssertionError(dtype);
        };
    }

    public static double getDouble(MemorySegment s, DType dtype, long i) {
        if (dtype.isFloatingPoint()) {
            return FloatFormats.decode(dtype, rawBits(s, dtype, i));
        }
        if (dtype == DType.U64) {
            long x = s.get(I64, i * 8);
            // Correctly rounded unsigned conversion: halve with a sticky bit, convert, double.
            return x >= 0 ? (double) x : (double) ((x >>> 1) | (x & 1)) * 2.0;
        }
        return getLong(s, dtype, i);
    }

    public static float getFloat(MemorySegment s, DType dtype, long i) {
        return switch (dtype) {
            case F32 -> s.get(F32, i * 4);
            case F64 -> (float) s.get(F64, i * 8);
            case U64 -> unsignedToFloat(s.get(I64, i * 8));
            default ->
                    dtype.isFloatingPoint()
                            ? (float) getDouble(s, dtype, i)
                            : (float) getLong(s, dtype, i);
        };
    }

    private static float unsignedToFloat(long x) {
        return x >= 0 ? (float) x : (float) ((x >>> 1) | (x & 1)) * 2.0f;
    }

    public static long getLong(MemorySegment s, DType dtype, long i) {
        return switch (dtype) {
            case BOOL -> s.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
            case U8 -> s.get(ValueLayout.JAVA_BYTE, i) & 0xFFL;
            case I8 -> s.get(ValueLayout.JAVA_BYTE, i);
            case U16 -> s.get(I16, i * 2) & 0xFFFFL;
            case I16 -> s.get(I16, i * 2);
            case U32 -> s.get(I32, i * 4) & 0xFFFF_FFFFL;
            case I32 -> s.get(I32, i * 4);
            case U64, I64 -> s.get(I64, i * 8);
            default ->
                    throw new SafetensorsException(
                            SafetensorsError.UnsupportedDtype,
                            "getLong needs an integer or BOOL tensor, this one is "
                                    + dtype.formatName());
        };
    }
}
