package dev.safeload.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every merge variant on the CPU backend against an fp64 reference, with fresh random data per run.
 */
class CpuMergeTest {
    private static CpuLoraBackend backend;

    @BeforeAll
    static void open() {
        backend = new CpuLoraBackend(2);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    /** Merges {@code plan}'s target for {@code w} and returns the merged values. */
    static float[] merged(Fixtures.Weight w, MergePlan plan) {
        try (WeightBuffer buf = backend.load(w.spec(), w.bytes())) {
            backend.merge(buf, plan.target(w.spec().name()));
            return readBack(buf);
        }
    }

    static float[] readBack(WeightBuffer buf) {
        byte[] out = new byte[Math.toIntExact(buf.byteSize())];
        backend.read(buf, MemorySegment.ofArray(out));
        return Numerics.decode(MemorySegment.ofArray(out), buf.precision());
    }

    static void assertClose(float[] got, double[] ref, Precision p, Fixtures f, String what) {
        double rel = Fixtures.relativeError(got, ref);
        double max = Fixtures.maxError(got, ref);
        assertTrue(
                rel < Fixtures.tolerance(p),
                what + " " + p + ": relative error " + rel + f.seedText());
        assertTrue(
                max < Fixtures.tolerance(p), what + " " + p + ": max error " + max + f.seedText());
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void linearMatchesFp64Reference(Precision p) {
        Fixtures f = new Fixtures();
        int in = 72 + f.random.nextInt(40);
        int out = 40 + f.random.nextInt(40);
        int r = 1 + f.random.nextInt(16);
        String module = "model.layers.0.self_attn.q_proj";
        Fixtures.Weight w = f.weight(module + ".weight", p, out, in);
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        f.peftLinear(module, r, in, out, Precision.F32),
                        Fixtures.config(r, 2 * r, "\"target_modules\": [\"q_proj\"]"),
                        Map.of(),
                        "a");
        MergePlan plan = MergePlan.of(List.of(w.spec()), adapter, 1.0);
        double[] ref = Fixtures.widen(w.values());
        Fixtures.add(ref, Fixtures.delta(adapter.modules().getFirst(), 2.0));
        assertClose(merged(w, plan), ref, p, f, "linear r=" + r);
        assertTrue(plan.target(w.spec().name()).isSingleGemm());
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void fanInFanOutTransposesTheDelta(Precision p) {
        Fixtures f = new Fixtures();
        int in = 64, out = 96, r = 4;
        String module = "transformer.h.0.attn.c_attn";
        // GPT-2 checkpoints name it without "transformer."; the resolver strips leading components.
        Fixtures.Weight w = f.weight("h.0.attn.c_attn.weight", p, in, out);
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        f.peftLinear(module, r, in, out, p),
                        Fixtures.config(
                                r, 8, "\"fan_in_fan_out\": true, \"target_modules\": [\"c_attn\"]"),
                        Map.of(),
                        "gpt2");
        double[] ref = Fixtures.widen(w.values());
        Fixtures.add(ref, Fixtures.delta(adapter.modules().getFirst(), 2.0));
        assertClose(
                merged(w, MergePlan.of(List.of(w.spec()), adapter, 1.0)),
                ref,
                p,
                f,
                "fan_in_fan_out");
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void embeddingDeltaIsTransposed(Precision p) {
        Fixtures f = new Fixtures();
        int num = 50, dim = 32, r = 8;
        Fixtures.Weight w = f.weight("model.embed_tokens.weight", p, num, dim);
        Map<String, AdapterTensor> t = new LinkedHashMap<>();
        t.put("base_model.model.model.embed_tokens.lora_embedding_A", f.tensor(p, 0.1, r, num));
        t.put("base_model.model.model.embed_tokens.lora_embedding_B", f.tensor(p, 0.1, dim, r));
        LoraAdapter adapter =
                LoraAdapter.fromTensors(t, Fixtures.config(r, 4, ""), Map.of(), "emb");
        LoraModule m = adapter.modules().getFirst();
        assertEquals(LayerKind.EMBEDDING, m.kind());
        double[] ref = Fixtures.widen(w.values());
        Fixtures.add(ref, Fixtures.delta(m, 0.5));
        assertClose(
                merged(w, MergePlan.of(List.of(w.spec()), adapter, 1.0)), ref, p, f, "embedding");
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void conv3x3IsAGemmOverTheKernel(Precision p) {
        Fixtures f = new Fixtures();
        int in = 6, out = 10, r = 3;
        Fixtures.Weight w = f.weight("unet.conv_in.weight", p, out, in, 3, 3);
        Map<String, AdapterTensor> t = new LinkedHashMap<>();
        t.put("base_model.model.unet.conv_in.lora_A.weight", f.tensor(p, 0.1, r, in, 3, 3));
        t.put("base_model.model.unet.conv_in.lora_B.weight", f.tensor(p, 0.1, out, r, 1, 1));
        LoraAdapter adapter =
                LoraAdapter.fromTensors(t, Fixtures.config(r, 3, ""), Map.of(), "conv");
        LoraModule m = adapter.modules().getFirst();
        assertEquals(LayerKind.CONV, m.kind());
        double[] ref = Fixtures.widen(w.values());
        Fixtures.add(ref, Fixtures.delta(m, 1.0));
        assertClose(
                merged(w, MergePlan.of(List.of(w.spec()), adapter, 1.0)), ref, p, f, "conv 3x3");
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void doraRescalesEveryOutputToItsMagnitude(Precision p) {
        Fixtures f = new Fixtures();
        int in = 40, out = 24, r = 4;
        for (boolean fanInFanOut : new boolean[] {false, true}) {
            String module = "model.layers.1.mlp.down_proj";
            Fixtures.Weight w =
                    fanInFanOut
                            ? f.weight(module + ".weight", p, in, out)
                            : f.weight(module + ".weight", p, out, in);
            Map<String, AdapterTensor> t = f.peftLinear(module, r, in, out, p);
            float[] magnitude = new float[out];
            for (int o = 0; o < out; o++) {
                magnitude[o] = (float) (0.1 + f.random.nextDouble() * 0.2);
            }
            t.put(
                    "base_model.model." + module + ".lora_magnitude_vector",
                    new AdapterTensor(DType.F32, new long[] {out}, magnitude));
            LoraAdapter adapter =
                    LoraAdapter.fromTensors(
                            t,
                            Fixtures.config(
                                    r, 8, "\"use_dora\": true, \"fan_in_fan_out\": " + fanInFanOut),
                            Map.of(),
                            "dora");
            LoraModule m = adapter.modules().getFirst();
            assertTrue(m.dora());
            double[] ref = Fixtures.widen(w.values());
            Fixtures.add(ref, Fixtures.delta(m, 2.0));
            Fixtures.dora(
                    ref, fanInFanOut ? in : out, fanInFanOut ? out : in, !fanInFanOut, magnitude);
            assertClose(
                    merged(w, MergePlan.of(List.of(w.spec()), adapter, 1.0)),
                    ref,
                    p,
                    f,
                    "DoRA fan_in_fan_out=" + fanInFanOut);
        }
    }

    @Test
    void rsLoraAndPatternsGiveEachModuleItsOwnScale() {
        Fixtures f = new Fixtures();
        Precision p = Precision.F32;
        Fixtures.Weight q = f.weight("model.layers.0.self_attn.q_proj.weight", p, 32, 32);
        Fixtures.Weight v = f.weight("model.layers.0.self_attn.v_proj.weight", p, 32, 32);
        Map<String, AdapterTensor> t =
                new LinkedHashMap<>(f.peftLinear("model.layers.0.self_attn.q_proj", 4, 32, 32, p));
        t.putAll(f.peftLinear("model.layers.0.self_attn.v_proj", 16, 32, 32, p));
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        t,
                        Fixtures.config(
                                4,
                                8,
                                "\"use_rslora\": true, \"rank_pattern\": {\"v_proj\": 16},"
                                        + " \"alpha_pattern\":"
                                        + " {\"layers\\\\.0\\\\.self_attn\\\\.v_proj\": 32}"),
                        Map.of(),
                        "rs");
        assertEquals(
                8 / Math.sqrt(4), adapter.module("model.layers.0.self_attn.q_proj").scale(), 1e-12);
        assertEquals(
                32 / Math.sqrt(16),
                adapter.module("model.layers.0.self_attn.v_proj").scale(),
                1e-12);
        MergePlan plan = MergePlan.of(List.of(q.spec(), v.spec()), adapter, 0.5);
        double[] refV = Fixtures.widen(v.values());
        Fixtures.add(
                refV, Fixtures.delta(adapter.module("model.layers.0.self_attn.v_proj"), 0.5 * 8));
        assertClose(merged(v, plan), refV, p, f, "alpha_pattern");
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void severalAdaptersWithWeightsAndGlobalScaleRoundOnce(Precision p) {
        Fixtures f = new Fixtures();
        int in = 48, out = 56;
        String module = "model.layers.3.mlp.up_proj";
        Fixtures.Weight w = f.weight(module + ".weight", p, out, in);
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear(module, 8, in, out, p),
                        Fixtures.config(8, 16, ""),
                        Map.of(),
                        "a");
        LoraAdapter b =
                LoraAdapter.fromTensors(
                        f.peftLinear(module, 2, in, out, p),
                        Fixtures.config(2, 1, ""),
                        Map.of(),
                        "b");
        Map<String, AdapterTensor> k = new LinkedHashMap<>();
        k.put("lora_te_model_layers_3_mlp_up_proj.lora_down.weight", f.tensor(p, 0.05, 4, in));
        k.put("lora_te_model_layers_3_mlp_up_proj.lora_up.weight", f.tensor(p, 0.05, out, 4));
        k.put("lora_te_model_layers_3_mlp_up_proj.alpha", Fixtures.scalar(2));
        LoraAdapter c = LoraAdapter.fromTensors(k, null, Map.of(), "kohya");
        MergePlan plan =
                MergePlan.builder(List.of(w.spec()))
                        .add(a, 0.7)
                        .add(b, -1.3)
                        .add(c, 2.0)
                        .globalScale(0.8)
                        .build();
        MergeTarget target = plan.target(w.spec().name());
        assertTrue(target.isSingleGemm(), "plain adapters fold into one step");
        assertEquals(14, target.steps().getFirst().k());
        double[] ref = Fixtures.widen(w.values());
        Fixtures.add(ref, Fixtures.delta(a.modules().getFirst(), 0.8 * 0.7 * 2.0));
        Fixtures.add(ref, Fixtures.delta(b.modules().getFirst(), 0.8 * -1.3 * 0.5));
        Fixtures.add(ref, Fixtures.delta(c.modules().getFirst(), 0.8 * 2.0 * 0.5));
        float[] got = merged(w, plan);
        assertClose(got, ref, p, f, "three adapters");
        // One rounding: each element is the dtype rounding of an fp32 sum, so it lies within one
        // dtype ulp of the fp64 value rounded the same way (two roundings would drift further).
        if (p != Precision.F32) {
            int shift = p == Precision.F16 ? 13 : 16; // fp32 has 23 mantissa bits, F16 10, BF16 7
            for (int i = 0; i < got.length; i++) {
                float expect = Numerics.round((float) ref[i], p);
                // Below the dtype's normal range the spacing stops shrinking: 2^-24 for F16,
                // 2^-133 for BF16 (its subnormals share F32's exponent range).
                float minSpacing = p == Precision.F16 ? 0x1p-24f : 0x1p-133f;
                float ulp = Math.max(Math.scalb(Math.ulp(expect), shift), minSpacing);
                assertTrue(
                        Math.abs(got[i] - expect) <= ulp,
                        "element " + i + ": " + got[i] + " vs " + expect + f.seedText());
            }
        }
    }

    @Test
    void loraBiasAddsToTheBaseBias() {
        Fixtures f = new Fixtures();
        Precision p = Precision.BF16;
        String module = "model.layers.0.mlp.gate_proj";
        Fixtures.Weight w = f.weight(module + ".weight", p, 20, 12);
        Fixtures.Weight bias = f.weight(module + ".bias", p, 20);
        Map<String, AdapterTensor> t = f.peftLinear(module, 2, 12, 20, p);
        AdapterTensor upBias = f.tensor(Precision.F32, 0.1, 20);
        t.put("base_model.model." + module + ".lora_B.bias", upBias);
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        t, Fixtures.config(2, 4, "\"lora_bias\": true"), Map.of(), "bias");
        MergePlan plan = MergePlan.of(List.of(w.spec(), bias.spec()), adapter, 1.0);
        double[] ref = Fixtures.widen(bias.values());
        for (int i = 0; i < ref.length; i++) {
            ref[i] += 2.0 * upBias.values()[i];
        }
        assertClose(merged(bias, plan), ref, p, f, "lora_B.bias");
    }

    @Test
    void modulesToSaveReplaceTheBaseTensor() {
        Fixtures f = new Fixtures();
        Map<String, AdapterTensor> t =
                f.peftLinear("model.layers.0.self_attn.q_proj", 2, 8, 8, Precision.F32);
        AdapterTensor head = f.tensor(Precision.F32, 1, 3, 8);
        t.put("base_model.model.score.modules_to_save.default.weight", head);
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        t,
                        Fixtures.config(2, 2, "\"modules_to_save\": [\"score\"]"),
                        Map.of(),
                        "cls");
        MergePlan plan =
                MergePlan.of(
                        List.of(
                                new WeightSpec(
                                        "model.layers.0.self_attn.q_proj.weight",
                                        DType.F16,
                                        new long[] {8, 8}),
                                new WeightSpec("score.weight", DType.F16, new long[] {3, 8})),
                        adapter,
                        1.0);
        assertEquals(List.of("score.weight"), List.copyOf(plan.replacements().keySet()));
        assertArrayEquals(head.values(), plan.replacements().get("score.weight").values());
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void unmergeWithKeptOriginalIsBitExactAndSubtractionIsClose(Precision p) {
        Fixtures f = new Fixtures();
        String module = "model.layers.0.self_attn.o_proj";
        Fixtures.Weight w = f.weight(module + ".weight", p, 64, 64);
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        f.peftLinear(module, 8, 64, 64, p),
                        Fixtures.config(8, 16, ""),
                        Map.of(),
                        "u");
        MergePlan plan = MergePlan.of(List.of(w.spec()), adapter, 1.0);
        byte[] original = w.bytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        try (WeightBuffer buf = backend.load(w.spec(), w.bytes())) {
            try (LoraMerger merger = new LoraMerger(backend, plan, true)) {
                merger.merge(Map.of(w.spec().name(), buf));
                assertFalse(
                        java.util.Arrays.equals(original, bytes(buf)),
                        "merge changed nothing" + f.seedText());
                merger.unmerge();
                assertArrayEquals(
                        original, bytes(buf), "kept-copy unmerge must be bit-exact" + f.seedText());
            }
            try (LoraMerger merger = new LoraMerger(backend, plan, false)) {
                merger.merge(Map.of(w.spec().name(), buf));
                merger.unmerge();
                float[] back = readBack(buf);
                // round(round(W + Δ) − Δ) is within one ulp of W (docs/lora.md §1.6); checked
                // norm-wise.
                assertClose(back, Fixtures.widen(w.values()), p, f, "subtracting unmerge");
            }
        }
    }

    @Test
    void doraCannotBeUnmergedBySubtraction() {
        Fixtures f = new Fixtures();
        String module = "m.lin";
        Fixtures.Weight w = f.weight(module + ".weight", Precision.F16, 4, 4);
        Map<String, AdapterTensor> t = f.peftLinear(module, 1, 4, 4, Precision.F16);
        t.put(
                "base_model.model." + module + ".lora_magnitude_vector",
                f.tensor(Precision.F32, 1, 4));
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        t, Fixtures.config(1, 1, "\"use_dora\": true"), Map.of(), "dora");
        MergePlan plan = MergePlan.of(List.of(w.spec()), adapter, 1.0);
        try (WeightBuffer buf = backend.load(w.spec(), w.bytes())) {
            backend.merge(buf, plan.target(w.spec().name()));
            LoraException e =
                    assertThrows(
                            LoraException.class,
                            () -> backend.unmerge(buf, plan.target(w.spec().name())));
            assertEquals(LoraError.Unsupported, e.kind());
            assertTrue(e.getMessage().contains("m.lin.weight"), e.getMessage());
        }
    }

    @Test
    void singleThreadAndMultiThreadAgreeBitForBit() {
        Fixtures f = new Fixtures();
        String module = "x.proj";
        Fixtures.Weight w = f.weight(module + ".weight", Precision.BF16, 333, 129);
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        f.peftLinear(module, 16, 129, 333, Precision.F32),
                        Fixtures.config(16, 32, ""),
                        Map.of(),
                        "t");
        MergePlan plan = MergePlan.of(List.of(w.spec()), adapter, 1.0);
        float[] multi = merged(w, plan);
        try (CpuLoraBackend one = new CpuLoraBackend(1);
                WeightBuffer buf = one.load(w.spec(), w.bytes())) {
            one.merge(buf, plan.target(w.spec().name()));
            byte[] out = new byte[Math.toIntExact(buf.byteSize())];
            one.read(buf, MemorySegment.ofArray(out));
            assertArrayEquals(
                    multi,
                    Numerics.decode(MemorySegment.ofArray(out), Precision.BF16),
                    f.seedText());
        }
    }

    static byte[] bytes(WeightBuffer buf) {
        byte[] out = new byte[Math.toIntExact(buf.byteSize())];
        backend.read(buf, MemorySegment.ofArray(out));
        return out;
    }
}
