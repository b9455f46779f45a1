package dev.safeload.safetensors;

import java.util.Locale;

/**
 * The 22 element types of the safetensors format, in the reference implementation's enum order
 * ({@code huggingface/safetensors} {@code tensor.rs} {@code enum Dtype}: "increasing alignment").
 * The writer sorts tensors by this order, descending, so {@link #ordinal()} is part of the file
 * format and the constants must never be reordered.
 *
 * <p>Sub-byte types ({@link #F4}, {@link #F6_E2M3}, {@link #F6_E3M2}) pack their elements; a tensor
 * of them must have an element count whose bit size is a multiple of 8 (see {@link #byteSize}).
 */
public enum DType {
    BOOL("BOOL", 8, Kind.BOOL),
    /** MXFP4, e2m1: 1 sign, 2 exponent, 1 mantissa bit; packed two per byte. */
    F4("F4", 4, Kind.FLOAT),
    /** MXFP6, e2m3: 1 sign, 2 exponent, 3 mantissa bits; four elements in three bytes. */
    F6_E2M3("F6_E2M3", 6, Kind.FLOAT),
    /** MXFP6, e3m2: 1 sign, 3 exponent, 2 mantissa bits; four elements in three bytes. */
    F6_E3M2("F6_E3M2", 6, Kind.FLOAT),
    U8("U8", 8, Kind.UNSIGNED),
    I8("I8", 8, Kind.SIGNED),
    F8_E5M2("F8_E5M2", 8, Kind.FLOAT),
    /** float8_e4m3fn: no infinities, NaN is S.1111.111. */
    F8_E4M3("F8_E4M3", 8, Kind.FLOAT),
    /** float8_e8m0fnu, the MX scale type: an exponent only, 0xFF is NaN. */
    F8_E8M0("F8_E8M0", 8, Kind.FLOAT),
    F8_E4M3FNUZ("F8_E4M3FNUZ", 8, Kind.FLOAT),
    F8_E5M2FNUZ("F8_E5M2FNUZ", 8, Kind.FLOAT),
    I16("I16", 16, Kind.SIGNED),
    U16("U16", 16, Kind.UNSIGNED),
    F16("F16", 16, Kind.FLOAT),
    BF16("BF16", 16, Kind.FLOAT),
    I32("I32", 32, Kind.SIGNED),
    U32("U32", 32, Kind.UNSIGNED),
    F32("F32", 32, Kind.FLOAT),
    /** complex64: two little-endian F32, real part first. */
    C64("C64", 64, Kind.COMPLEX),
    F64("F64", 64, Kind.FLOAT),
    I64("I64", 64, Kind.SIGNED),
    U64("U64", 64, Kind.UNSIGNED);

    private enum Kind {
        BOOL,
        SIGNED,
        UNSIGNED,
        FLOAT,
        COMPLEX
    }

    private static final DType[] VALUES = values();

    private final String formatName;
    private final int bits;
    private final Kind kind;

    DType(String formatName, int bits, Kind kind) {
        this.formatName = formatName;
        this.bits = bits;
        this.kind = kind;
    }

    /** The name the header uses, for example {@code F8_E4M3} (case-sensitive). */
    public String formatName() {
        return formatName;
    }

    /** Bits per element: 4, 6, 8, 16, 32 or 64. */
    public int bits() {
        return bits;
    }

    /** Whether the type is a real floating-point type (not {@link #C64}, not {@link #BOOL}). */
    public boolean isFloatingPoint() {
        return kind == Kind.FLOAT;
    }

    /** Whether the type is a signed or unsigned integer type. */
    public boolean isInteger() {
        return kind == Kind.SIGNED || kind == Kind.UNSIGNED;
    }

    /** Whether the type is an unsigned integer type. */
    public boolean isUnsigned() {
        return kind == Kind.UNSIGNED;
    }

    /** Whether the type is complex ({@link #C64}). */
    public boolean isComplex() {
        return kind == Kind.COMPLEX;
    }

    /**
     * Whether elements are smaller than a byte ({@link #F4}, {@link #F6_E2M3}, {@link #F6_E3M2}).
     */
    public boolean isSubByte() {
        return bits < 8;
    }

    /**
     * The exact byte size of {@code elementCount} elements.
     *
     * @throws SafetensorsException {@link SafetensorsError#ValidationOverflow} if the bit count
     *     overflows a long, {@link SafetensorsError#MisalignedSlice} if it is not a multiple of 8
     *     (reference {@code Metadata::validate})
     * @throws IllegalArgumentException if {@code elementCount} is negative
     */
    public long byteSize(long elementCount) {
        if (elementCount < 0) {
            throw new IllegalArgumentException("negative element count " + elementCount);
        }
        long totalBits;
        try {
            totalBits = Math.multiplyExact(elementCount, (long) bits);
        } catch (ArithmeticException e) {
            throw new SafetensorsException(
                    SafetensorsError.ValidationOverflow,
                    String.format(
                            Locale.ROOT,
                            "%d elements of %s overflow a 64-bit byte count",
                            elementCount,
                            formatName));
        }
        if ((totalBits & 7) != 0) {
            throw new SafetensorsException(
                    SafetensorsError.MisalignedSlice,
                    String.format(
                            Locale.ROOT,
                            "%d elements of %s (%d bits each) do not fill whole bytes",
                            elementCount,
                            formatName,
                            bits));
        }
        return totalBits >>> 3;
    }

    /**
     * The type whose header name is {@code name}, matched exactly as the reference does ({@code
     * f32} is not {@code F32}).
     *
     * @throws SafetensorsException {@link SafetensorsError#InvalidHeaderDeserialization} naming the
     *     unknown type and listing the known ones
     */
    public static DType fromFormatName(String name) {
        DType d = lookup(name);
        if (d == null) {
            throw new SafetensorsException(
                    SafetensorsError.InvalidHeaderDeserialization,
                    "unknown dtype " + quote(name) + ", expected one of " + knownNames());
        }
        return d;
    }

    /** As {@link #fromFormatName} but returns {@code null} for an unknown name. */
    public static DType lookup(String name) {
        // A switch on strings hashes once; the header parser calls this per tensor.
        return switch (name) {
            case "BOOL" -> BOOL;
            case "F4" -> F4;
            case "F6_E2M3" -> F6_E2M3;
            case "F6_E3M2" -> F6_E3M2;
            case "U8" -> U8;
            case "I8" -> I8;
            case "F8_E5M2" -> F8_E5M2;
            case "F8_E4M3" -> F8_E4M3;
            case "F8_E8M0" -> F8_E8M0;
            case "F8_E4M3FNUZ" -> F8_E4M3FNUZ;
            case "F8_E5M2FNUZ" -> F8_E5M2FNUZ;
            case "I16" -> I16;
            case "U16" -> U16;
            case "F16" -> F16;
            case "BF16" -> BF16;
            case "I32" -> I32;
            case "U32" -> U32;
            case "F32" -> F32;
            case "C64" -> C64;
            case "F64" -> F64;
            case "I64" -> I64;
            case "U64" -> U64;
            default -> null;
        };
    }

    /** The known header names, comma-separated, for diagnostics. */
    static String knownNames() {
        StringBuilder sb = new StringBuilder();
        for (DType d : VALUES) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(d.formatName);
        }
        return sb.toString();
    }

    private static String quote(String s) {
        return s.length() > 40 ? "`" + s.substring(0, 40) + "...`" : "`" + s + "`";
    }
}
