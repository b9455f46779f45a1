package dev.safeload.lora;

import dev.safeload.safetensors.DType;

/**
 * The floating-point element types LoRA arithmetic runs on: base weights, adapter factors and
 * activations. Each is one {@link DType}; any other dtype (integer, fp8, F64) is refused with
 * {@link LoraError#WrongDtype} because merging into it would need a quantisation step this runtime
 * does not own.
 */
public enum Precision {
    /** IEEE half precision, {@link DType#F16}. */
    F16(DType.F16),
    /** bfloat16, {@link DType#BF16}. */
    BF16(DType.BF16),
    /** IEEE single precision, {@link DType#F32}. */
    F32(DType.F32);

    private final DType dtype;

    Precision(DType dtype) {
        this.dtype = dtype;
    }

    /** The dtype of elements stored in this precision. */
    public DType dtype() {
        return dtype;
    }

    /** Bytes per element. */
    public int byteSize() {
        return dtype.bits() / 8;
    }

    /**
     * Whether {@code dtype} is one of these precisions.
     *
     * @param dtype a dtype
     * @return true for F16, BF16 and F32
     */
    public static boolean supports(DType dtype) {
        return lookup(dtype) != null;
    }

    /**
     * The precision of {@code dtype}.
     *
     * @param dtype the dtype of a tensor
     * @param what describes the tensor for the error message, for example {@code "base weight
     *     model.layers.0.mlp.up_proj.weight"}
     * @return its precision
     * @throws LoraException {@link LoraError#WrongDtype} if {@code dtype} is not F16, BF16 or F32
     */
    public static Precision of(DType dtype, String what) {
        Precision p = lookup(dtype);
        if (p == null) {
            throw LoraException.of(
                    LoraError.WrongDtype,
                    "%s has dtype %s; LoRA needs F16, BF16 or F32",
                    what,
                    dtype.formatName());
        }
        return p;
    }

    private static Precision lookup(DType dtype) {
        return switch (dtype) {
            case F16 -> F16;
            case BF16 -> BF16;
            case F32 -> F32;
            default -> null;
        };
    }
}
