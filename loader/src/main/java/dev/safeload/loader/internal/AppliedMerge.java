package dev.safeload.loader.internal;

import dev.safeload.Cleanup;
import dev.safeload.loader.LoadedTensor;
import dev.safeload.lora.AdapterTensor;
import dev.safeload.lora.LoraBackend;
import dev.safeload.lora.LoraMerger;
import dev.safeload.lora.MergePlan;
import dev.safeload.lora.MergeTarget;
import dev.safeload.lora.WeightBuffer;
import dev.safeload.lora.WeightSpec;
import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.TensorView;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One checked {@link MergePlan} applied in place to a placed model's memory, and what undoing it
 * needs: a {@link LoraMerger} for the low-rank deltas (one {@code GemmEx} with beta = 1 per weight
 * on CUDA, queued on the model's stream; kept copies or subtraction to undo) and a kept copy of
 * every tensor a {@code modules_to_save} tensor replaced (a replacement cannot be subtracted).
 *
 * <p>The plan has bound every module to the model's tensors and checked every shape and dtype
 * before this class exists, so a misfit never changes a byte. A failure part way (the device runs
 * out of memory for the kept copies) undoes what was done before it leaves.
 */
public final class AppliedMerge {
    private final LoraBackend backend;
    private final LoraMerger merger;
    private final Map<String, WeightBuffer> replaced = new LinkedHashMap<>();
    private final Map<String, WeightBuffer> originals = new LinkedHashMap<>();
    private final long changedBytes;
    private boolean undone;

    private AppliedMerge(LoraBackend backend, LoraMerger merger, long changedBytes) {
        this.backend = backend;
        this.merger = merger;
        this.changedBytes = changedBytes;
    }

    /** Merges {@code plan} into {@code placement}'s tensors (by name). */
    public static AppliedMerge apply(
            Placement placement,
            Map<String, LoadedTensor> tensors,
            MergePlan plan,
            boolean keepOriginals) {
        LoraBackend backend = placement.backend();
        Map<String, WeightBuffer> weights = new LinkedHashMap<>();
        long bytes = 0;
        for (MergeTarget t : plan.targets().values()) {
            weights.put(t.weight().name(), wrap(placement, tensors, t.weight()));
            bytes += t.byteSize();
        }
        for (Map.Entry<String, AdapterTensor> r : plan.replacements().entrySet()) {
            bytes += tensors.get(r.getKey()).byteSize();
        }
        AppliedMerge merge =
                new AppliedMerge(backend, new LoraMerger(backend, plan, keepOriginals), bytes);
        try {
            merge.merger.merge(weights);
            for (Map.Entry<String, AdapterTensor> r : plan.replacements().entrySet()) {
                LoadedTensor t = tensors.get(r.getKey());
                WeightBuffer target = wrap(placement, tensors, Specs.of(t));
                merge.originals.put(t.name(), backend.copy(target));
                merge.replaced.put(t.name(), target);
                write(backend, Specs.of(t), r.getValue(), target);
            }
        } catch (RuntimeException | Error e) {
            new Cleanup(e).run(merge::undo).rethrow();
            throw e;
        }
        return merge;
    }

    private static WeightBuffer wrap(
            Placement placement, Map<String, LoadedTensor> tensors, WeightSpec spec) {
        return placement.wrap(tensors.get(spec.name()), spec);
    }

    /** Writes the replacement's values, rounded once to the tensor's dtype, over the tensor. */
    private static void write(
            LoraBackend backend, WeightSpec spec, AdapterTensor values, WeightBuffer target) {
        try (Arena arena = Arena.ofConfined()) {
            float[] v = values.values();
            MemorySegment f32 = arena.allocate((long) v.length * Float.BYTES, 8);
            MemorySegment.copy(
                    v,
                    0,
                    f32,
                    ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                    0,
                    v.length);
            MemorySegment encoded = arena.allocate(Math.max(1, target.byteSize()), 8);
            encoded = encoded.asSlice(0, target.byteSize());
            TensorView.of(spec.name(), DType.F32, spec.shape(), f32)
                    .convertInto(spec.dtype(), encoded);
            try (WeightBuffer staged = backend.load(spec, encoded)) {
                backend.copyInto(staged, target);
                // The copy may be queued (CUDA): the staged buffer is freed once it has run.
                backend.synchronize();
            }
        }
    }

    /** Bytes of the model's tensors this merge changed. */
    public long changedBytes() {
        return changedBytes;
    }

    /** Whether undoing restores exact copies. */
    public boolean exact() {
        return merger.keepsOriginals();
    }

    /** Takes the merge out again (replacements first, then the deltas); idempotent. */
    public void undo() {
        if (undone) {
            return;
        }
        undone = true;
        Cleanup cleanup = new Cleanup();
        for (Map.Entry<String, WeightBuffer> e : originals.entrySet()) {
            cleanup.run(() -> backend.copyInto(e.getValue(), replaced.get(e.getKey())));
        }
        cleanup.run(merger::unmerge).run(backend::synchronize);
        originals.values().forEach(cleanup::close);
        originals.clear();
        cleanup.close(merger).rethrow();
    }

    /** Frees the kept copies and leaves the merge in (the model is closing). */
    public void release() {
        undone = true;
        Cleanup cleanup = new Cleanup().run(backend::synchronize);
        originals.values().forEach(cleanup::close);
        originals.clear();
        cleanup.close(merger).rethrow();
    }
}
