package dev.safeload.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.lora.internal.Numerics;
import dev.safeload.safetensors.DType;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Serving without merging on the CPU: segments of mixed-rank adapters against an fp64 reference;
 * LRU.
 */
class CpuAdapterPoolTest {
    static final String Q = "model.layers.0.self_attn.q_proj";
    static final int IN = 96;
    static final int OUT = 80;
    private static CpuLoraBackend backend;

    @BeforeAll
    static void open() {
        backend = new CpuLoraBackend(2);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    static List<WeightSpec> base(Precision p) {
        return List.of(
                new WeightSpec(Q + ".weight", p.dtype(), new long[] {OUT, IN}),
                new WeightSpec(
                        "model.layers.0.self_attn.k_proj.weight", p.dtype(), new long[] {OUT, IN}));
    }

    static LoraAdapter adapter(Fixtures f, int r, double alpha, String module) {
        return LoraAdapter.fromTensors(
                f.peftLinear(module, r, IN, OUT, Precision.F32),
                Fixtures.config(r, alpha, ""),
                Map.of(),
                "r" + r);
    }

    /** fp64 reference: y + Σ_segments s·scale_m·(x·Aᵀ)·Bᵀ on the segment's rows. */
    static double[] reference(
            float[] x,
            float[] y,
            int rows,
            List<Segment> segments,
            Map<String, LoraAdapter> adapters) {
        double[] ref = Fixtures.widen(y);
        for (Segment s : segments) {
            LoraModule m = adapters.get(s.adapterId()).module(Q);
            if (m == null) {
                continue;
            }
            double[] delta = Fixtures.delta(m, m.scale() * s.scale()); // out × in
            for (int row = s.firstRow(); row < s.endRow(); row++) {
                for (int o = 0; o < OUT; o++) {
                    double acc = 0;
                    for (int i = 0; i < IN; i++) {
                        acc += delta[o * IN + i] * x[row * IN + i];
                    }
                    ref[row * OUT + o] += acc;
                }
            }
        }
        return ref;
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void segmentsOfMixedRankAdaptersMatchFp64(Precision p) {
        Fixtures f = new Fixtures();
        Map<String, LoraAdapter> adapters = new LinkedHashMap<>();
        adapters.put("a", adapter(f, 4, 8, Q));
        adapters.put("b", adapter(f, 16, 16, Q));
        adapters.put("c", adapter(f, 1, 2, Q));
        adapters.put("k-only", adapter(f, 8, 8, "model.layers.0.self_attn.k_proj"));
        int rows = 37;
        float[] x = f.values((long) rows * IN, 1, p);
        float[] y = f.values((long) rows * OUT, 1, p);
        List<Segment> segments =
                List.of(
                        new Segment("b", 0, 10, 1f),
                        new Segment("a", 10, 1, 0.5f),
                        new Segment("k-only", 11, 5, 1f),
                        new Segment("c", 20, 17, -2f)); // rows 16..19 have no adapter
        MemorySegment yBytes = MemorySegment.ofArray(Numerics.encode(y, p));
        try (AdapterPool pool = backend.newAdapterPool(base(p), p, 1 << 20)) {
            adapters.forEach(pool::load);
            pool.apply(
                    Q + ".weight",
                    new HostActivations(MemorySegment.ofArray(Numerics.encode(x, p)), p, rows, IN),
                    new HostActivations(yBytes, p, rows, OUT),
                    segments);
        }
        double[] ref = reference(x, y, rows, segments, adapters);
        float[] got = Numerics.decode(yBytes, p);
        double rel = Fixtures.relativeError(got, ref);
        assertTrue(rel < Fixtures.tolerance(p), p + ": relative error " + rel + f.seedText());
        for (int i = 16 * OUT; i < 20 * OUT; i++) {
            assertEquals(y[i], got[i], "rows without a segment are untouched" + f.seedText());
        }
    }

    @Test
    void leastRecentlyUsedAdapterIsEvicted() {
        Fixtures f = new Fixtures();
        LoraAdapter one = adapter(f, 8, 8, Q);
        long bytes = 8L * (IN + OUT) * Float.BYTES;
        try (AdapterPool pool =
                backend.newAdapterPool(base(Precision.F32), Precision.F32, 3 * bytes)) {
            pool.load("a", one);
            pool.load("b", adapter(f, 8, 8, Q));
            pool.load("c", adapter(f, 8, 8, Q));
            assertEquals(3 * bytes, pool.usedBytes());
            HostActivations x =
                    new HostActivations(MemorySegment.ofArray(new float[IN]), Precision.F32, 1, IN);
            HostActivations y =
                    new HostActivations(
                            MemorySegment.ofArray(new float[OUT]), Precision.F32, 1, OUT);
            pool.apply(
                    Q + ".weight",
                    x,
                    y,
                    List.of(new Segment("a", 0, 1, 1f))); // a is now most recent
            pool.load("d", adapter(f, 8, 8, Q));
            assertEquals(List.of("c", "a", "d"), pool.loaded(), "b was least recently used");
            pool.load("big", adapter(f, 16, 16, Q)); // needs two slots: evicts c and a
            assertEquals(List.of("d", "big"), pool.loaded());
            assertTrue(pool.unload("d"));
            assertFalse(pool.unload("d"));
            assertEquals(2 * bytes, pool.usedBytes());
            LoraException e =
                    assertThrows(
                            LoraException.class,
                            () ->
                                    pool.apply(
                                            Q + ".weight",
                                            x,
                                            y,
                                            List.of(new Segment("a", 0, 1, 1f))));
            assertEquals(LoraError.AdapterNotLoaded, e.kind());
            LoraException tooBig =
                    assertThrows(
                            LoraException.class, () -> pool.load("huge", adapter(f, 64, 64, Q)));
            assertEquals(LoraError.AdapterNotLoaded, tooBig.kind());
            assertEquals(List.of("big"), pool.loaded(), "a refused load leaves the pool as it was");
        }
    }

    @Test
    void badBatchesAndUnservableAdaptersAreRefused() {
        Fixtures f = new Fixtures();
        try (AdapterPool pool =
                backend.newAdapterPool(base(Precision.F16), Precision.F16, 1 << 20)) {
            pool.load("a", adapter(f, 4, 4, Q));
            HostActivations x =
                    new HostActivations(
                            MemorySegment.ofArray(new short[4 * IN]), Precision.F16, 4, IN);
            HostActivations y =
                    new HostActivations(
                            MemorySegment.ofArray(new short[4 * OUT]), Precision.F16, 4, OUT);
            HostActivations wrong =
                    new HostActivations(
                            MemorySegment.ofArray(new short[4 * IN]), Precision.F16, 4, IN);
            assertThrows(
                    IllegalArgumentException.class,
                    () ->
                            pool.apply(
                                    Q + ".weight",
                                    x,
                                    y,
                                    List.of(
                                            new Segment("a", 0, 3, 1f),
                                            new Segment("a", 2, 2, 1f))));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> pool.apply(Q + ".weight", x, y, List.of(new Segment("a", 2, 3, 1f))));
            LoraException e =
                    assertThrows(
                            LoraException.class,
                            () ->
                                    pool.apply(
                                            Q + ".weight",
                                            x,
                                            wrong,
                                            List.of(new Segment("a", 0, 4, 1f))));
            assertEquals(LoraError.ShapeMismatch, e.kind());
            Map<String, AdapterTensor> dora =
                    new LinkedHashMap<>(f.peftLinear(Q, 2, IN, OUT, Precision.F32));
            dora.put(
                    "base_model.model." + Q + ".lora_magnitude_vector",
                    f.tensor(Precision.F32, 1, OUT));
            LoraAdapter d = LoraAdapter.fromTensors(dora, null, Map.of(), "dora");
            assertEquals(
                    LoraError.Unsupported,
                    assertThrows(LoraException.class, () -> pool.load("d", d)).kind());
            List<WeightSpec> misfit =
                    new ArrayList<>(
                            List.of(
                                    new WeightSpec(
                                            Q + ".weight", DType.F16, new long[] {OUT, IN + 1})));
            try (AdapterPool other = backend.newAdapterPool(misfit, Precision.F16, 1 << 20)) {
                assertEquals(
                        LoraError.ShapeMismatch,
                        assertThrows(
                                        LoraException.class,
                                        () -> other.load("a", adapter(f, 2, 2, Q)))
                                .kind());
            }
        }
    }
}
