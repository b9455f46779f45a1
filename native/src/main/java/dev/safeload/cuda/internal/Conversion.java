package dev.safeload.cuda.internal;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.safeload.safetensors.DType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The dtype conversions an upload can apply on the device, each with its PTX kernel
 * (src/main/cuda/convert.cu) and a host implementation with the same bits (used by the host copy
 * engine, and as the reference the kernels are tested against): round to nearest even as PyTorch's
 * {@code .to(dtype)}; NaN stays NaN (f16: sign, quiet bit and top payload bits, as F16C; bf16:
 * c10's canonical 0x7FC0).
 */
public enum Conversion {
    F32_TO_F16(DType.F32, DType.F16, "safeload_f32_to_f16"),
    F32_TO_BF16(DType.F32, DType.BF16, "safeload_f32_to_bf16"),
    BF16_TO_F16(DType.BF16, DType.F16, "safeload_bf16_to_f16"),
    F16_TO_BF16(DType.F16, DType.BF16, "safeload_f16_to_bf16");

    private final DType source;
    private final DType target;
    private final String kernel;

    Conversion(DType source, DType target, String kernel) {
        this.source = source;
        this.target = target;
        this.kernel = kernel;
    }

    /** The conversion from {@code from} to {@code to}, if one exists. */
    public static Optional<Conversion> of(DType from, DType to) {
        for (Conversion c : values()) {
            if (c.source == from && c.target == to) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** The conversions there are, as {@code F32 to F16, ...}, for messages. */
    public static String supportedText() {
        return Arrays.stream(values())
                .map(c -> c.source.formatName() + " to " + c.target.formatName())
                .collect(Collectors.joining(", "));
    }

    public DType source() {
        return source;
    }

    public DType target() {
        return target;
    }

    public int sourceBytes() {
        return source.bits() / 8;
    }

    /** Bytes per converted element (every target is 16-bit). */
    public int targetBytes() {
        return target.bits() / 8;
    }

    /** The {@code .entry} name in convert.ptx. */
    public String kernel() {
        return kernel;
    }

    /** Converts {@code count} little-endian elements from {@code src} into {@code dst}. */
    public void convert(MemorySegment src, MemorySegment dst, long count) {
        for (long i = 0; i < count; i++) {
            short out =
                    switch (this) {
                        case F32_TO_F16 -> f32ToF16(src.getAtIndex(JAVA_FLOAT_UNALIGNED, i));
                        case F32_TO_BF16 -> f32ToBf16(src.getAtIndex(JAVA_FLOAT_UNALIGNED, i));
                        case BF16_TO_F16 ->
                                f32ToF16(bf16ToF32(src.getAtIndex(JAVA_SHORT_UNALIGNED, i)));
                        case F16_TO_BF16 ->
                                f32ToBf16(
                                        Float.float16ToFloat(
                                                src.getAtIndex(JAVA_SHORT_UNALIGNED, i)));
                    };
            dst.setAtIndex(JAVA_SHORT_UNALIGNED, i, out);
        }
    }

    /**
     * f32 to f16 bits: IEEE round to nearest even; NaN keeps its sign and top payload bits, made
     * quiet.
     */
    public static short f32ToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) (((bits >>> 16) & 0x8000) | 0x7E00 | ((bits >>> 13) & 0x3FF));
        }
        return Float.floatToFloat16(value);
    }

    /** f32 to bf16 bits as c10::detail::round_to_nearest_even. */
    public static short f32ToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) 0x7FC0;
        }
        int roundingBias = ((bits >>> 16) & 1) + 0x7FFF;
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** bf16 bits to f32, exactly. */
    public static float bf16ToF32(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }
}
