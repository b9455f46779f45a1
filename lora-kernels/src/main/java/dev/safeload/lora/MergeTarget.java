package dev.safeload.lora;

import java.util.List;
import java.util.Objects;

/**
 * Everything that changes one base tensor, in the storage layout of that tensor: viewed as a
 * row-major {@code rows × cols} matrix {@code W} (conv kernels flattened), each step adds {@code
 * left · right} (fp32, scales already folded in) and, for DoRA, then rescales every output to the
 * magnitude vector (see {@link Step}).
 *
 * <p>Steps without DoRA commute, so a plan folds all plain adapters of a tensor into one step of
 * rank {@code Σ r_i}: one GEMM per tensor on CUDA, one pass over the weight on the CPU, and one
 * rounding to the base dtype either way.
 *
 * @param weight the base tensor
 * @param precision its element type
 * @param rows W's row count (out, or in for fan_in_fan_out / embeddings)
 * @param cols W's column count (in·kernel, or out)
 * @param outputsAreRows whether W's rows are the output features (false when transposed); DoRA
 *     normalises per output
 * @param steps the updates, applied in order
 * @param contributors {@code adapter: module} for each LoRA module that contributes, for messages
 */
public record MergeTarget(
        WeightSpec weight,
        Precision precision,
        int rows,
        int cols,
        boolean outputsAreRows,
        List<Step> steps,
        List<String> contributors) {

    public MergeTarget {
        Objects.requireNonNull(weight, "weight");
        Objects.requireNonNull(precision, "precision");
        steps = List.copyOf(steps);
        contributors = List.copyOf(contributors);
    }

    /**
     * {@code W += left · right}, then for DoRA {@code W[o] *= magnitude[o] / ‖W₀[o] + (left ·
     * right)[o]‖} per output o, W₀ the tensor before the merge: peft norms each DoRA adapter
     * against the unmerged base even when other adapters were merged before it
     * (DoraLinearVariant.merge_unsafe, {@code _unmerged_base_weight}; docs/lora.md §1.6).
     *
     * @param left rows × k, row-major
     * @param right k × cols, row-major
     * @param k the inner dimension (sum of the ranks folded into this step)
     * @param magnitude DoRA magnitude per output, or null
     */
    public record Step(float[] left, float[] right, int k, float[] magnitude) {
        public Step {
            Objects.requireNonNull(left, "left");
            Objects.requireNonNull(right, "right");
        }

        public boolean dora() {
            return magnitude != null;
        }
    }

    /** Whether any step is DoRA (needs the whole updated weight before rounding). */
    public boolean hasDora() {
        return steps.stream().anyMatch(Step::dora);
    }

    /** Whether the update is one plain low-rank product: one GEMM with beta = 1. */
    public boolean isSingleGemm() {
        return steps.size() == 1 && !steps.getFirst().dora();
    }

    public long elementCount() {
        return (long) rows * cols;
    }

    public long byteSize() {
        return elementCount() * precision.byteSize();
    }
}
