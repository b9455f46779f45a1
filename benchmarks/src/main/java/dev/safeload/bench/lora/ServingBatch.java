package dev.safeload.bench.lora;

import dev.safeload.lora.AdapterPool;
import dev.safeload.lora.Segment;
import dev.safeload.lora.WeightSpec;
import dev.safeload.safetensors.DType;

import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.util.ArrayList;
import java.util.List;

/**
 * The serving benchmarks' batch: one 4096×4096 F16 q_proj, {@code adapters} rank-{@code rank}
 * adapters, the batch's rows split evenly between them (64 adapters over 64 tokens = one token
 * each, the decode case).
 */
@State(Scope.Benchmark)
public abstract class ServingBatch {
    static final String WEIGHT = "model.layers.0.self_attn.q_proj.weight";
    static final int HIDDEN = SevenBLayers.HIDDEN;
    static final List<WeightSpec> BASE = base(HIDDEN);

    @Param({"1", "8", "64"})
    public int adapters;

    @Param("16")
    public int rank;

    /** The projection {@link #WEIGHT} as a {@code hidden}×{@code hidden} F16 weight. */
    static List<WeightSpec> base(int hidden) {
        return List.of(new WeightSpec(WEIGHT, DType.F16, new long[] {hidden, hidden}));
    }

    /**
     * Loads the adapters into {@code pool} and returns one segment per adapter over {@code tokens}
     * rows.
     */
    List<Segment> loadAdapters(AdapterPool pool, int tokens) {
        return loadAdapters(pool, tokens, BASE);
    }

    /** As {@link #loadAdapters(AdapterPool, int)}, for adapters on {@code base}. */
    List<Segment> loadAdapters(AdapterPool pool, int tokens, List<WeightSpec> base) {
        List<Segment> segments = new ArrayList<>();
        for (int a = 0; a < adapters; a++) {
            pool.load("a" + a, SevenBLayers.adapter(base, rank, a));
            int from = tokens * a / adapters;
            int to = tokens * (a + 1) / adapters;
            segments.add(new Segment("a" + a, from, to - from, 1f));
        }
        return segments;
    }
}
