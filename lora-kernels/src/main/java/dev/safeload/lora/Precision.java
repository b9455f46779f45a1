package dev.safeload.lora;

import java.util.Locale;

/**
 * The floating-point element types LoRA arithmetic runs on: base weights, adapter factors and
 * activations. Names are the safetensors dtype names; anything else (integer, fp8, F64) is refused
 * with {@link LoraError#WrongDtype} because merging into it would need a quantisation step this
 * runtime does not own.
 */
public enum Precision {
    F16(2),
    BF16(2),
    F32(4);

    private final int byteSize;

    Precision(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether {@code dtype} (a safetensors dtype name) is one of these precisions. */
    public static boolean supports(String dtype) {
        for (Precision p : values()) {
            if (p.name().equals(dtype)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The precision named {@code dtype}; {@code what} describes the tensor for the error message,
     * for example {@code "base weight model.layers.0.mlp.up_proj.weight"}.
     */
    public static Precision of(String dtype, String what) {
        if (!supports(dtype)) {
            throw LoraException.of(
                    LoraError.WrongDtype,
                    "%s has dtype %s; LoRA needs F16, BF16 or F32",
                    what,
                    dtype);
        }
        return valueOf(dtype.toUpperCase(Locale.ROOT));
    }
}
