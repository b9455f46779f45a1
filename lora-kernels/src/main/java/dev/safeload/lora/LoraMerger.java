package dev.safeload.lora;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Merges a {@link MergePlan} into a set of resident weights and takes it out again.
 *
 * <p>With {@code keepOriginals}, each touched weight is copied (on the same backend) before its
 * first merge, and {@link #unmerge()} restores those copies: bit-exact, at the cost of one extra
 * copy of the touched weights. Without, {@link #unmerge()} subtracts the deltas ({@link
 * LoraBackend#unmerge}), which is cheap but leaves last-place rounding differences in F16/BF16 and
 * refuses DoRA.
 */
public final class LoraMerger implements AutoCloseable {
    private final LoraBackend backend;
    private final MergePlan plan;
    private final boolean keepOriginals;
    private final Map<String, WeightBuffer> merged = new LinkedHashMap<>();
    private final Map<String, WeightBuffer> originals = new LinkedHashMap<>();

    public LoraMerger(LoraBackend backend, MergePlan plan, boolean keepOriginals) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.plan = Objects.requireNonNull(plan, "plan");
        this.keepOriginals = keepOriginals;
    }

    /**
     * Merges every target found in {@code weights} (by tensor name); replacements from {@code
     * modules_to_save} are written over their tensors. Weights the plan does not touch are ignored.
     * Returns the names merged.
     */
    public List<String> merge(Map<String, WeightBuffer> weights) {
        List<String> done = new ArrayList<>();
        for (MergeTarget target : plan.targets().values()) {
            WeightBuffer w = weights.get(target.weight().name());
            if (w == null || merged.containsKey(target.weight().name())) {
                continue;
            }
            if (keepOriginals) {
                originals.put(target.weight().name(), backend.copy(w));
            }
            backend.merge(w, target);
            merged.put(target.weight().name(), w);
            done.add(target.weight().name());
        }
        return done;
    }

    /** Takes the merged deltas out again: exact copies back if kept, else subtraction. */
    public void unmerge() {
        List<WeightBuffer> restored = new ArrayList<>();
        List<Map.Entry<String, WeightBuffer>> entries = new ArrayList<>(merged.entrySet());
        for (int i = entries.size() - 1; i >= 0; i--) {
            String name = entries.get(i).getKey();
            WeightBuffer w = entries.get(i).getValue();
            WeightBuffer original = originals.remove(name);
            if (original != null) {
                backend.copyInto(original, w);
                restored.add(original);
            } else {
                backend.unmerge(w, plan.target(name));
            }
            merged.remove(name);
        }
        // The copies may still be queued (CUDA): free the originals only once they have run.
        backend.synchronize();
        restored.forEach(WeightBuffer::close);
    }

    /** Whether unmerge restores kept copies. */
    public boolean keepsOriginals() {
        return keepOriginals;
    }

    /** Frees kept copies (the merged weights stay merged). */
    @Override
    public void close() {
        backend.synchronize();
        originals.values().forEach(WeightBuffer::close);
        originals.clear();
    }
}
