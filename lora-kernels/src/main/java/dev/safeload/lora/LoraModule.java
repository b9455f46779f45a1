package dev.safeload.lora;

import java.util.Objects;

/**
 * One adapted layer: {@code delta = scale · up · down} (PEFT's {@code B·A}), laid out as the base
 * weight needs it.
 *
 * @param name the module path as the adapter names it (PEFT: without {@code base_model.model.};
 *     kohya: the {@code lora_unet_...} name)
 * @param kind the layer kind
 * @param rank the rank, taken from the tensor shapes
 * @param alpha the alpha (config, pattern, or kohya {@code .alpha}; alpha = rank where absent)
 * @param scale {@code alpha / rank}, or {@code alpha / sqrt(rank)} with rsLoRA
 * @param transposed whether the base stores the weight (in, out): {@code fan_in_fan_out} or an
 *     embedding
 * @param down A, shape (rank, in) or (rank, in, k...) for conv
 * @param up B, shape (out, rank) or (out, rank, 1...) for conv
 * @param magnitude DoRA's {@code lora_magnitude_vector} (out), or null
 * @param upBias {@code lora_B.bias} (out) when the adapter was trained with {@code lora_bias}, or
 *     null
 */
public record LoraModule(
        String name,
        LayerKind kind,
        int rank,
        double alpha,
        double scale,
        boolean transposed,
        AdapterTensor down,
        AdapterTensor up,
        AdapterTensor magnitude,
        AdapterTensor upBias) {

    public LoraModule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(down, "down");
        Objects.requireNonNull(up, "up");
    }

    /** This module with its delta laid out (in, out) when {@code transposed}, else (out, in). */
    public LoraModule withTransposed(boolean transposed) {
        return transposed == this.transposed
                ? this
                : new LoraModule(
                        name, kind, rank, alpha, scale, transposed, down, up, magnitude, upBias);
    }

    /** Input features of the delta: in, or in·kh·kw for conv, or num_embeddings. */
    public long inFeatures() {
        return down.trailing(1);
    }

    /** Output features of the delta: out, or embedding_dim. */
    public long outFeatures() {
        return up.dim(0);
    }

    /** Whether this is a DoRA module. */
    public boolean dora() {
        return magnitude != null;
    }

    /**
     * The base weight shape this module fits: (out, in) or (in, out) when transposed; for conv,
     * (out, in, k...) from the down tensor's kernel (docs/lora.md §1.4: A has the base's kernel
     * size).
     */
    public long[] expectedWeightShape() {
        long[] d = down.shape();
        if (kind == LayerKind.CONV) {
            long[] shape = d.clone();
            shape[0] = outFeatures();
            return shape;
        }
        return transposed
                ? new long[] {inFeatures(), outFeatures()}
                : new long[] {outFeatures(), inFeatures()};
    }

    /** Parameter count of A and B (and DoRA/bias vectors), for pool accounting. */
    public long parameterCount() {
        long n = (long) down.values().length + up.values().length;
        if (magnitude != null) {
            n += magnitude.values().length;
        }
        if (upBias != null) {
            n += upBias.values().length;
        }
        return n;
    }
}
