package dev.safeload.loader;

import dev.safeload.Cleanup;
import dev.safeload.loader.internal.AppliedMerge;
import dev.safeload.loader.internal.Placement;
import dev.safeload.loader.internal.Specs;
import dev.safeload.lora.AdapterPool;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.MergePlan;
import dev.safeload.lora.ModelMerger;
import dev.safeload.lora.Precision;
import dev.safeload.safetensors.DType;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * LoRA adapters on a {@link LoadedModel}, on the memory it placed, with no host round trip: merged
 * into the weights in place (and taken out again, or switched for others), or served unmerged from
 * the same base weights through an {@link AdapterPool} bound to the model's tensors by name.
 *
 * <p>Every adapter is bound to the model's tensors and checked (a module the model lacks, a shape
 * or dtype that does not fit) before any byte of the model changes: a misfit throws a {@code
 * LoraException} ({@code MissingModule}, {@code ShapeMismatch}, {@code WrongDtype}) and leaves the
 * weights as they were.
 *
 * {@snippet :
 * MergedAdapters chat = model.adapters().merge(LoraAdapter.read(chatDir));
 * // ... serve ...
 * MergedAdapters code = model.adapters().switchTo(
 *         List.of(new ModelMerger.WeightedAdapter(LoraAdapter.read(codeDir), 1.0)), Unmerge.EXACT);
 * }
 *
 * <p>One thread changes a model's adapters at a time (the methods are synchronized); on CUDA the
 * merges are queued on the model's stream ({@link LoadedModel#cudaStream()}).
 */
public final class ModelAdapters {
    private final Placement placement;
    private final Map<String, LoadedTensor> tensors;
    private final List<MergedAdapters> merged = new ArrayList<>();
    private final List<AdapterPool> pools = new ArrayList<>();

    ModelAdapters(Placement placement, Map<String, LoadedTensor> tensors) {
        this.placement = placement;
        this.tensors = tensors;
    }

    /**
     * Merges one adapter as trained (scale 1), keeping originals for an exact unmerge.
     *
     * @param adapter the adapter
     * @return the merge, to unmerge later
     */
    public MergedAdapters merge(LoraAdapter adapter) {
        return merge(adapter, 1.0);
    }

    /**
     * Merges one adapter at {@code scale} (a multiplier on its alpha/r), keeping originals for an
     * exact unmerge.
     *
     * @param adapter the adapter
     * @param scale the multiplier
     * @return the merge, to unmerge later
     */
    public MergedAdapters merge(LoraAdapter adapter, double scale) {
        return merge(List.of(new ModelMerger.WeightedAdapter(adapter, scale)), Unmerge.EXACT);
    }

    /**
     * Merges several adapters at once: every weight they touch gets {@code W += Σ scale_i · s_i ·
     * B_i·A_i}, accumulated in fp32 and rounded once to its dtype (one GEMM per weight on CUDA).
     *
     * @param adapters the adapters and their scales
     * @param unmerge how the merge is to be taken out again
     * @return the merge, to unmerge later
     * @throws dev.safeload.lora.LoraException for an adapter that does not fit, before anything
     *     changes
     */
    public synchronized MergedAdapters merge(
            List<ModelMerger.WeightedAdapter> adapters, Unmerge unmerge) {
        long start = System.nanoTime();
        return apply(adapters, plan(adapters), unmerge, start);
    }

    /**
     * Binds adapters to the model and checks them, changing nothing: what {@link #merge} would do.
     *
     * @param adapters the adapters and their scales
     * @return the checked plan
     * @throws dev.safeload.lora.LoraException for an adapter that does not fit
     */
    public MergePlan plan(List<ModelMerger.WeightedAdapter> adapters) {
        if (adapters.isEmpty()) {
            throw new IllegalArgumentException("no adapters to merge");
        }
        MergePlan.Builder builder = MergePlan.builder(Specs.of(placement.tensors()));
        adapters.forEach(a -> builder.add(a.adapter(), a.weight()));
        return builder.build();
    }

    /**
     * Replaces whatever is merged by {@code adapters}: they are checked first (a misfit changes
     * nothing, the current adapters stay in), then every merge is taken out, newest first, and
     * these are merged.
     *
     * @param adapters the adapters and their scales
     * @param unmerge how the new merge is to be taken out again
     * @return the new merge
     */
    public synchronized MergedAdapters switchTo(
            List<ModelMerger.WeightedAdapter> adapters, Unmerge unmerge) {
        long start = System.nanoTime();
        MergePlan plan = plan(adapters);
        unmergeAll();
        return apply(adapters, plan, unmerge, start);
    }

    private MergedAdapters apply(
            List<ModelMerger.WeightedAdapter> adapters,
            MergePlan plan,
            Unmerge unmerge,
            long start) {
        AppliedMerge applied =
                AppliedMerge.apply(placement, tensors, plan, unmerge == Unmerge.EXACT);
        MergedAdapters m =
                new MergedAdapters(
                        this,
                        applied,
                        adapters,
                        plan.targets().size(),
                        plan.replacements().size(),
                        System.nanoTime() - start);
        merged.add(m);
        return m;
    }

    /**
     * The merges in, oldest first.
     *
     * @return the merges not yet taken out
     */
    public synchronized List<MergedAdapters> merged() {
        return List.copyOf(merged);
    }

    /** Takes every merge out, newest first. */
    public synchronized void unmergeAll() {
        while (!merged.isEmpty()) {
            unmerge(merged.getLast());
        }
    }

    synchronized void unmerge(MergedAdapters m) {
        if (!merged.contains(m)) {
            return;
        }
        if (merged.getLast() != m) {
            throw new LoaderException(
                    LoaderError.MergeOrder,
                    "cannot unmerge "
                            + m
                            + " while "
                            + (merged.size() - 1 - merged.indexOf(m))
                            + " later merge(s) are in; unmerge them first or call unmergeAll()");
        }
        m.applied().undo();
        merged.removeLast();
        m.markUnmerged();
    }

    /**
     * A pool for serving adapters unmerged on this model, computing in the precision of its weights
     * (the dtype most of its matrices have).
     *
     * @param capacityBytes the most bytes of adapter factors the pool holds before it evicts
     * @return the pool; the model owns it and closes it with itself
     */
    public AdapterPool pool(long capacityBytes) {
        return pool(weightPrecision(), capacityBytes);
    }

    /**
     * A pool for serving adapters unmerged on this model: {@link AdapterPool#load} binds each
     * adapter to the model's tensors by name (misfits refused), and {@link AdapterPool#apply} adds
     * an adapter's delta for one of the model's weights to activations in this model's memory
     * ({@code HostActivations} on the CPU, {@code DeviceActivations} on CUDA).
     *
     * @param precision the activations' precision (F16 or BF16 on CUDA)
     * @param capacityBytes the most bytes of adapter factors the pool holds before it evicts
     * @return the pool; the model owns it and closes it with itself
     */
    public synchronized AdapterPool pool(Precision precision, long capacityBytes) {
        AdapterPool pool =
                placement
                        .backend()
                        .newAdapterPool(Specs.of(placement.tensors()), precision, capacityBytes);
        pools.add(pool);
        return pool;
    }

    /** The precision most of the model's matrices have (F16 when there are none). */
    Precision weightPrecision() {
        Map<DType, Long> count = new EnumMap<>(DType.class);
        for (LoadedTensor t : placement.tensors()) {
            if (t.shape().length >= 2 && Precision.supports(t.dtype())) {
                count.merge(t.dtype(), 1L, Long::sum);
            }
        }
        return count.entrySet().stream()
                .max(Map.Entry.comparingByValue())
                .map(e -> Precision.of(e.getKey(), "the model's weights"))
                .orElse(Precision.F16);
    }

    /** Closes the pools and frees kept copies (the model is closing; merges stay in). */
    synchronized void close() {
        Cleanup cleanup = new Cleanup();
        pools.forEach(cleanup::close);
        pools.clear();
        for (MergedAdapters m : merged) {
            cleanup.run(() -> m.applied().release());
        }
        merged.clear();
        cleanup.rethrow();
    }
}
