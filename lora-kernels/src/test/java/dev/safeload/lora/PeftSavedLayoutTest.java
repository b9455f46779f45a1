package dev.safeload.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.lora.internal.Numerics;
import dev.safeload.safetensors.DType;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link PeftDifferentialTest} found ours doing differently from peft 0.21, checked here
 * without torch so that it stays covered where peft is not installed: the base layer saved beside a
 * LoRA target, fan_in_fan_out decided per layer type, DoRA on embeddings, lm_head LoRA on a base
 * whose output layer is tied to its input embedding, and DoRA merged after another adapter.
 */
class PeftSavedLayoutTest {
    private final Fixtures f = new Fixtures();

    @Test
    void baseLayerSavedWithATargetReplacesTheBaseThenTakesTheDelta() {
        // save_embedding_layers (utils/save_and_load.py): lm_head.base_layer.weight beside its LoRA
        Map<String, AdapterTensor> t = f.peftLinear("lm_head", 4, 48, 96, Precision.F32);
        AdapterTensor saved = f.tensor(Precision.F32, 0.02, 96, 48);
        t.put("base_model.model.lm_head.base_layer.weight", saved);
        AdapterTensor bias = f.tensor(Precision.F32, 0.02, 144);
        t.putAll(f.peftLinear("transformer.h.0.attn.c_attn", 4, 48, 144, Precision.F32));
        t.put("base_model.model.transformer.h.0.attn.c_attn.base_layer.bias", bias); // bias="all"
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        t, Fixtures.config(4, 8, "\"bias\": \"all\""), Map.of(), "a");
        MergePlan plan =
                MergePlan.of(
                        List.of(
                                spec("lm_head.weight", 96, 48),
                                spec("transformer.h.0.attn.c_attn.weight", 48, 144),
                                spec("transformer.h.0.attn.c_attn.bias", 144)),
                        adapter,
                        1.0);
        assertEquals(
                List.of("lm_head.weight", "transformer.h.0.attn.c_attn.bias"),
                List.copyOf(plan.replacements().keySet()));
        assertArrayEquals(
                saved.values(), plan.replacements().get("lm_head.weight").values(), f.seedText());
        assertArrayEquals(
                bias.values(),
                plan.replacements().get("transformer.h.0.attn.c_attn.bias").values(),
                f.seedText());
        assertTrue(plan.targets().containsKey("lm_head.weight"), "the delta still applies");
    }

    @Test
    void fanInFanOutFollowsEachBaseWeightNotTheSavedFlag() {
        // all-linear on GPT2ForSequenceClassification: Conv1D blocks stored (in, out), a Linear
        // score
        // head stored (out, in); peft saved fan_in_fan_out=false, the last wrapped layer's value
        Map<String, AdapterTensor> t = new LinkedHashMap<>();
        t.putAll(f.peftLinear("transformer.h.0.attn.c_attn", 4, 48, 144, Precision.F32));
        t.putAll(f.peftLinear("transformer.h.0.attn.c_proj", 4, 48, 48, Precision.F32));
        t.putAll(f.peftLinear("transformer.h.0.mlp.c_proj", 4, 192, 48, Precision.F32));
        t.putAll(f.peftLinear("score", 4, 48, 3, Precision.F32));
        t.putAll(f.peftLinear("head.dense", 4, 48, 48, Precision.F32));
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        t, Fixtures.config(4, 8, "\"fan_in_fan_out\": false"), Map.of(), "cls");
        MergePlan plan =
                MergePlan.of(
                        List.of(
                                spec("transformer.h.0.attn.c_attn.weight", 48, 144),
                                spec("transformer.h.0.attn.c_proj.weight", 48, 48),
                                spec("transformer.h.0.mlp.c_proj.weight", 192, 48),
                                spec("score.weight", 3, 48),
                                spec("head.dense.weight", 48, 48)),
                        adapter,
                        1.0);
        assertFalse(
                plan.target("transformer.h.0.attn.c_attn.weight").outputsAreRows(),
                "Conv1D by its shape");
        assertFalse(
                plan.target("transformer.h.0.mlp.c_proj.weight").outputsAreRows(),
                "Conv1D by its shape");
        assertFalse(
                plan.target("transformer.h.0.attn.c_proj.weight").outputsAreRows(),
                "square: as mlp.c_proj");
        assertTrue(plan.target("score.weight").outputsAreRows(), "Linear by its shape");
        assertTrue(
                plan.target("head.dense.weight").outputsAreRows(),
                "square, no evidence: the saved flag");
    }

    @Test
    void doraOnAnEmbeddingScalesEachEmbeddingFeature() {
        Map<String, AdapterTensor> t = new LinkedHashMap<>();
        t.put(
                "base_model.model.model.embed_tokens.lora_embedding_A",
                f.tensor(Precision.F32, 0.1, 4, 96));
        t.put(
                "base_model.model.model.embed_tokens.lora_embedding_B",
                f.tensor(Precision.F32, 0.1, 48, 4));
        t.put(
                "base_model.model.model.embed_tokens.lora_magnitude_vector",
                f.tensor(Precision.F32, 1, 48));
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        t, Fixtures.config(4, 8, "\"use_dora\": true"), Map.of(), "dora");
        assertTrue(adapter.modules().getFirst().dora());
        MergeTarget target =
                MergePlan.of(List.of(spec("model.embed_tokens.weight", 96, 48)), adapter, 1.0)
                        .target("model.embed_tokens.weight");
        assertFalse(target.outputsAreRows(), "magnitudes per column of (num, dim)");
    }

    @Test
    void lmHeadOfATiedBaseIsItsInputEmbedding() {
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        f.peftLinear("lm_head", 4, 48, 96, Precision.F32),
                        Fixtures.config(4, 8, "\"target_modules\": [\"lm_head\"]"),
                        Map.of(),
                        "head");
        MergePlan plan =
                MergePlan.of(
                        List.of(
                                spec("model.embed_tokens.weight", 96, 48),
                                spec("model.norm.weight", 48)),
                        adapter,
                        1.0);
        assertTrue(plan.target("model.embed_tokens.weight").outputsAreRows());
        LoraException e =
                assertThrows(
                        LoraException.class,
                        () ->
                                MergePlan.of(
                                        List.of(
                                                spec("model.embed_tokens.weight", 96, 48),
                                                spec("vision.embed_tokens.weight", 96, 48)),
                                        adapter,
                                        1.0));
        assertEquals(LoraError.MissingModule, e.kind());
        assertTrue(e.getMessage().contains("vision.embed_tokens"), e.getMessage());
    }

    @Test
    void doraAfterAnotherAdapterIsNormedAgainstTheUnmergedBase() {
        // peft merging [plain a, DoRA b] (variants.py DoraLinearVariant.merge_unsafe, layer.py
        // _unmerged_base_weight): W' = m_b / ||W0 + dB|| * (W0 + dA + dB), norms per output row
        int in = 40, out = 24, r = 4;
        String module = "model.layers.0.self_attn.q_proj";
        Fixtures.Weight w = f.weight(module + ".weight", Precision.F32, out, in);
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear(module, r, in, out, Precision.F32),
                        Fixtures.config(r, 8, ""),
                        Map.of(),
                        "a");
        Map<String, AdapterTensor> tb = f.peftLinear(module, r, in, out, Precision.F32);
        AdapterTensor magnitude = f.tensor(Precision.F32, 0.1, out);
        tb.put("base_model.model." + module + ".lora_magnitude_vector", magnitude);
        LoraAdapter b =
                LoraAdapter.fromTensors(
                        tb, Fixtures.config(r, 4, "\"use_dora\": true"), Map.of(), "b");
        double[] normed = Fixtures.widen(w.values());
        Fixtures.add(normed, Fixtures.delta(b.modules().getFirst(), 1.0));
        double[] ref = Fixtures.widen(w.values());
        Fixtures.add(ref, Fixtures.delta(a.modules().getFirst(), 2.0));
        Fixtures.add(ref, Fixtures.delta(b.modules().getFirst(), 1.0));
        double largest = 0;
        for (int o = 0; o < out; o++) {
            double sum = 0;
            for (int i = 0; i < in; i++) {
                sum += normed[o * in + i] * normed[o * in + i];
            }
            for (int i = 0; i < in; i++) {
                ref[o * in + i] *= magnitude.values()[o] / Math.sqrt(sum);
                largest = Math.max(largest, Math.abs(ref[o * in + i]));
            }
        }
        MergePlan plan = MergePlan.builder(List.of(w.spec())).add(a, 1.0).add(b, 1.0).build();
        byte[] bytes = new byte[out * in * 4];
        try (CpuLoraBackend cpu = new CpuLoraBackend(2);
                WeightBuffer buf = cpu.load(w.spec(), w.bytes())) {
            cpu.merge(buf, plan.target(w.spec().name()));
            cpu.read(buf, MemorySegment.ofArray(bytes));
        }
        float[] got = Numerics.decode(MemorySegment.ofArray(bytes), Precision.F32);
        for (int i = 0; i < got.length; i++) {
            assertEquals(ref[i], got[i], 1e-5 * largest, "element " + i + f.seedText());
        }
    }

    private static WeightSpec spec(String name, long... shape) {
        return new WeightSpec(name, DType.F16, shape);
    }
}
