package dev.safeload.loader;

import dev.safeload.loader.internal.AppliedMerge;
import dev.safeload.lora.ModelMerger;

import java.util.List;
import java.util.Objects;

/**
 * Adapters merged into a {@link LoadedModel}'s weights by one {@link ModelAdapters#merge} call:
 * what they changed, and the way to take them out again. The model owns the memory; this handle
 * only says which merge to undo.
 */
public final class MergedAdapters {
    private final ModelAdapters owner;
    private final AppliedMerge applied;
    private final List<ModelMerger.WeightedAdapter> adapters;
    private final int modules;
    private final int replaced;
    private final long nanos;
    private boolean merged = true;

    MergedAdapters(
            ModelAdapters owner,
            AppliedMerge applied,
            List<ModelMerger.WeightedAdapter> adapters,
            int modules,
            int replaced,
            long nanos) {
        this.owner = owner;
        this.applied = applied;
        this.adapters = List.copyOf(adapters);
        this.modules = modules;
        this.replaced = replaced;
        this.nanos = nanos;
    }

    /**
     * The adapters and their scales, in merge order.
     *
     * @return the adapters
     */
    public List<ModelMerger.WeightedAdapter> adapters() {
        return adapters;
    }

    /**
     * Base tensors changed by a low-rank delta.
     *
     * @return the count of merged weights
     */
    public int modules() {
        return modules;
    }

    /**
     * Base tensors replaced whole by tensors the adapters saved ({@code modules_to_save}).
     *
     * @return the count of replaced tensors
     */
    public int replaced() {
        return replaced;
    }

    /**
     * Bytes of the model's tensors the merge changed.
     *
     * @return the bytes
     */
    public long changedBytes() {
        return applied.changedBytes();
    }

    /**
     * How long binding the adapters and queueing the merge took.
     *
     * @return nanoseconds
     */
    public long nanos() {
        return nanos;
    }

    /**
     * Whether {@link #unmerge()} restores the weights bit for bit ({@link Unmerge#EXACT}).
     *
     * @return true when originals are kept
     */
    public boolean exact() {
        return applied.exact();
    }

    /**
     * Whether the adapters are still merged.
     *
     * @return false after {@link #unmerge()}
     */
    public boolean isMerged() {
        return merged;
    }

    /**
     * Takes these adapters out of the weights: kept originals are copied back ({@link
     * Unmerge#EXACT}), else the deltas are subtracted. Adapters merged after these must be taken
     * out first. Idempotent.
     *
     * @throws LoaderException {@link LoaderError#MergeOrder} if a later merge is still in
     */
    public void unmerge() {
        if (merged) {
            owner.unmerge(this);
        }
    }

    AppliedMerge applied() {
        return applied;
    }

    void markUnmerged() {
        merged = false;
    }

    @Override
    public String toString() {
        return Objects.toString(
                adapters.stream().map(a -> a.adapter().source()).toList()
                        + (merged ? " merged" : " unmerged"));
    }
}
