package dev.safeload.lora;

import java.lang.foreign.MemorySegment;
import java.util.Collection;

/**
 * Where LoRA arithmetic runs. {@link CpuLoraBackend} is the reference every test compares with; the
 * CUDA backend does the same work on device weights with cuBLAS. Obtain one from {@link
 * LoraBackends}.
 *
 * <p>Operations may be queued (CUDA queues everything on one stream); {@link #read} and {@link
 * #synchronize} wait for them. Results are the same on every backend up to fp32 summation order:
 * each weight element is updated in fp32 and rounded once to its dtype.
 */
public interface LoraBackend extends AutoCloseable {
    /** {@code cpu} or {@code cuda}. */
    String name();

    /**
     * Makes the plan's factors resident in this backend (converted to each weight's dtype), so that
     * later merges and unmerges of the plan cost only the weight traffic: switching adapters by
     * merge/unmerge. A hint; the CPU backend keeps its fp32 factors on the heap anyway.
     */
    default void prepare(MergePlan plan) {}

    /** Frees what {@link #prepare} made resident (after queued work that uses it). */
    default void release(MergePlan plan) {}

    /** Copies a base tensor's bytes (little-endian, C order) into memory this backend owns. */
    WeightBuffer load(WeightSpec spec, MemorySegment bytes);

    /**
     * Applies the target's steps in place: {@code W += left·right} per step, DoRA rescaling, one
     * rounding.
     */
    void merge(WeightBuffer weight, MergeTarget target);

    /**
     * Subtracts the target's steps again, in reverse order. Not exact in F16/BF16: the merge
     * rounded {@code W + Δ}, so {@code round(round(W + Δ) − Δ)} differs from W by up to one unit in
     * the last place in a few percent of the elements (docs/lora.md §1.6: 3.8 % of elements after
     * one fp16 merge/unmerge). Use {@link LoraMerger} with kept originals for an exact restore.
     * DoRA cannot be subtracted (its norms are gone) and is refused.
     */
    void unmerge(WeightBuffer weight, MergeTarget target);

    /** A new buffer holding a copy of {@code weight} (for an exact unmerge later). */
    WeightBuffer copy(WeightBuffer weight);

    /** Copies {@code source} over {@code destination} (same spec). */
    void copyInto(WeightBuffer source, WeightBuffer destination);

    /** Waits for queued work on {@code weight} and copies its bytes to {@code destination}. */
    void read(WeightBuffer weight, MemorySegment destination);

    /** Waits until everything queued so far has finished. */
    void synchronize();

    /**
     * A pool for serving adapters unmerged on top of {@code base}, computing in {@code precision}.
     */
    AdapterPool newAdapterPool(
            Collection<WeightSpec> base, Precision precision, long capacityBytes);

    @Override
    void close();
}
