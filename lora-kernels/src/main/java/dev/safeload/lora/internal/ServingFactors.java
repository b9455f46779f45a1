package dev.safeload.lora.internal;

import dev.safeload.lora.LayerKind;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.LoraError;
import dev.safeload.lora.LoraException;
import dev.safeload.lora.LoraModule;
import dev.safeload.lora.MergePlan;
import dev.safeload.lora.MergeTarget;
import dev.safeload.lora.WeightSpec;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One module's factors in the layout the unmerged forward needs: {@code y += (x·Aᵀ)·Bᵀ} with A (k ×
 * in) and Bᵀ (k × out) row-major, the module scale folded into Bᵀ.
 */
public record ServingFactors(String weightName, int k, int in, int out, float[] a, float[] bt) {

    /** Parameter count of both factors. */
    public long parameters() {
        return (long) k * (in + out);
    }

    /**
     * Binds {@code adapter} to {@code base} (every misfit reported as by {@link MergePlan}) and
     * returns its factors by base weight name. Refuses what the unmerged forward cannot serve.
     */
    public static Map<String, ServingFactors> of(Collection<WeightSpec> base, LoraAdapter adapter) {
        for (LoraModule m : adapter.modules()) {
            if (m.kind() != LayerKind.LINEAR || m.dora() || m.upBias() != null) {
                throw LoraException.of(
                        LoraError.Unsupported,
                        "%s: module %s is %s; serving without merging supports plain linear LoRA"
                                + " (merge it instead)",
                        adapter.source(),
                        m.name(),
                        m.dora()
                                ? "DoRA"
                                : m.upBias() != null
                                        ? "trained with lora_bias"
                                        : m.kind().name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        if (!adapter.wholeTensors().isEmpty()) {
            throw LoraException.of(
                    LoraError.Unsupported,
                    "%s saves whole tensors (modules_to_save) %s; serving without merging cannot"
                            + " swap base tensors",
                    adapter.source(),
                    adapter.wholeTensors().keySet());
        }
        Map<String, ServingFactors> out = new LinkedHashMap<>();
        for (MergeTarget t : MergePlan.of(base, adapter, 1.0).targets().values()) {
            MergeTarget.Step step = t.steps().getFirst();
            int k = step.k();
            if (t.outputsAreRows()) {
                // left = s·B (out × k), right = A (k × in)
                out.put(
                        t.weight().name(),
                        new ServingFactors(
                                t.weight().name(),
                                k,
                                t.cols(),
                                t.rows(),
                                step.right(),
                                transpose(step.left(), t.rows(), k)));
            } else {
                // left = Aᵀ (in × k), right = s·Bᵀ (k × out)
                out.put(
                        t.weight().name(),
                        new ServingFactors(
                                t.weight().name(),
                                k,
                                t.rows(),
                                t.cols(),
                                transpose(step.left(), t.rows(), k),
                                step.right()));
            }
        }
        return out;
    }

    /** Row-major {@code rows × cols} to row-major {@code cols × rows}. */
    static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = m[r * cols + c];
            }
        }
        return t;
    }
}
