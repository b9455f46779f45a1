package dev.safeload.lora;

/** The kind of base layer an adapter module targets; it decides how the delta is laid out. */
public enum LayerKind {
    /**
     * {@code nn.Linear} (weight (out, in)), or GPT-2 {@code Conv1D} with {@code fan_in_fan_out}.
     */
    LINEAR,
    /**
     * {@code nn.Conv1d/2d/3d} with groups = 1: the delta is a GEMM over in·kernel (docs/lora.md
     * §1.4).
     */
    CONV,
    /**
     * {@code nn.Embedding} (weight (num, dim)): the delta is always transposed (docs/lora.md §1.4).
     */
    EMBEDDING,
}
