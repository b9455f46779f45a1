package dev.safeload.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.safetensors.DType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Key layouts, config semantics, and every refusal and misfit error with its message. */
class AdapterFormatTest {
    private final Fixtures f = new Fixtures();

    private static LoraException refused(LoraError kind, Runnable r) {
        LoraException e = assertThrows(LoraException.class, r::run);
        assertEquals(kind, e.kind(), e.getMessage());
        return e;
    }

    @Test
    void peftKeysWithAndWithoutAdapterNameSegment() {
        Map<String, AdapterTensor> t = new LinkedHashMap<>();
        t.put(
                "base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight",
                f.tensor(Precision.F16, 1, 4, 16));
        t.put(
                "base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight",
                f.tensor(Precision.F16, 1, 16, 4));
        t.put(
                "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight",
                f.tensor(Precision.BF16, 1, 4, 16));
        t.put(
                "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
                f.tensor(Precision.BF16, 1, 16, 4));
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        t,
                        Fixtures.config(4, 8, "\"target_modules\": [\"q_proj\", \"v_proj\"]"),
                        Map.of(),
                        "x");
        assertEquals(AdapterFormat.PEFT, a.format());
        assertEquals(
                List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"),
                a.modules().stream().map(LoraModule::name).toList());
        assertEquals(2.0, a.modules().getFirst().scale());
    }

    @Test
    void peftWithoutConfigMeansAlphaEqualsRank() {
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear("unet.mid.to_q", 6, 8, 8, Precision.F32),
                        null,
                        Map.of(),
                        "diffusers");
        assertNull(a.config());
        assertEquals(1.0, a.modules().getFirst().scale());
    }

    @Test
    void diffusersMetadataConfigIsUsed() {
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear("unet.mid.to_q", 4, 8, 8, Precision.F32),
                        null,
                        Map.of("lora_adapter_metadata", Fixtures.config(4, 2, "")),
                        "diffusers");
        assertEquals(0.5, a.modules().getFirst().scale());
    }

    @Test
    void kohyaAlphaAndMissingAlpha() {
        Map<String, AdapterTensor> t = new LinkedHashMap<>();
        t.put(
                "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight",
                f.tensor(Precision.F16, 1, 8, 32, 1, 1));
        t.put(
                "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight",
                f.tensor(Precision.F16, 1, 32, 8, 1, 1));
        t.put("lora_unet_down_blocks_0_attentions_0_proj_in.alpha", Fixtures.scalar(4));
        t.put(
                "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight",
                f.tensor(Precision.F16, 1, 8, 16));
        t.put(
                "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight",
                f.tensor(Precision.F16, 1, 16, 8));
        t.put("lora_unet_conv_in.lora_down.weight", f.tensor(Precision.F16, 1, 2, 4, 3, 3));
        t.put("lora_unet_conv_in.lora_up.weight", f.tensor(Precision.F16, 1, 32, 2, 1, 1));
        t.put(
                "lora_unet_conv_in.alpha",
                Fixtures.scalar(0)); // zero alpha means alpha = r, as in sd-scripts
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        t, null, Map.of("ss_network_dim", "8"), "kohya.safetensors");
        assertEquals(AdapterFormat.KOHYA, a.format());
        assertEquals(0.5, a.module("lora_unet_down_blocks_0_attentions_0_proj_in").scale());
        assertEquals(1.0, a.module("lora_te_text_model_encoder_layers_0_self_attn_q_proj").scale());
        assertEquals(1.0, a.module("lora_unet_conv_in").scale());
        assertEquals(LayerKind.CONV, a.module("lora_unet_conv_in").kind());

        // Bound against the base's own names: a 1x1 conv LoRA onto a Linear proj_in
        // (SDXL/diffusers), the
        // text encoder under a checkpoint prefix, a 3x3 conv.
        List<WeightSpec> base =
                List.of(
                        new WeightSpec(
                                "down_blocks.0.attentions.0.proj_in.weight",
                                DType.F16,
                                new long[] {32, 32}),
                        new WeightSpec(
                                "cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight",
                                DType.F16,
                                new long[] {16, 16}),
                        new WeightSpec("conv_in.weight", DType.F32, new long[] {32, 4, 3, 3}),
                        new WeightSpec("conv_in.bias", DType.F32, new long[] {32}));
        MergePlan plan = MergePlan.of(base, a, 1.0);
        assertEquals(3, plan.targets().size());
        assertEquals(36, plan.target("conv_in.weight").cols());
    }

    @Test
    void kohyaNameAmbiguityIsReportedNotGuessed() {
        Map<String, AdapterTensor> t = new LinkedHashMap<>();
        t.put(
                "lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight",
                f.tensor(Precision.F16, 1, 2, 4));
        t.put(
                "lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_up.weight",
                f.tensor(Precision.F16, 1, 4, 2));
        LoraAdapter a = LoraAdapter.fromTensors(t, null, Map.of(), "sdxl");
        List<WeightSpec> base =
                List.of(
                        new WeightSpec(
                                "te1.text_model.encoder.layers.0.mlp.fc1.weight",
                                DType.F16,
                                new long[] {4, 4}),
                        new WeightSpec(
                                "te2.text_model.encoder.layers.0.mlp.fc1.weight",
                                DType.F16,
                                new long[] {4, 4}));
        LoraException e = refused(LoraError.MissingModule, () -> MergePlan.of(base, a, 1.0));
        assertTrue(
                e.getMessage().contains("te1.text_model.encoder.layers.0.mlp.fc1")
                        && e.getMessage().contains("te2.text_model.encoder.layers.0.mlp.fc1"),
                e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "lora_unet_a.hada_w1_a, LoHa",
        "lora_unet_a.lokr_w1, LoKr",
        "lora_unet_a.lora_mid.weight, Tucker",
        "lora_unet_a.dora_scale, dora_scale",
        "base_model.model.k_proj.ia3_l, IA3",
        "base_model.model.q.oft_r, OFT",
        "base_model.model.q.vera_lambda_b, VeRA",
        "lora_unet_a.diff, full weight difference",
    })
    void unsupportedFormatsAreNamed(String key, String family) {
        Map<String, AdapterTensor> t = new LinkedHashMap<>();
        t.put("lora_unet_a.lora_down.weight", f.tensor(Precision.F16, 1, 2, 4));
        t.put(key, f.tensor(Precision.F16, 1, 2, 2));
        LoraException e =
                refused(
                        LoraError.UnsupportedFormat,
                        () -> LoraAdapter.fromTensors(t, null, Map.of(), "lyco"));
        assertTrue(e.getMessage().contains(family) && e.getMessage().contains(key), e.getMessage());
        Map<String, AdapterTensor> only = Map.of(key, f.tensor(Precision.F16, 1, 2, 2));
        refused(
                LoraError.UnsupportedFormat,
                () -> LoraAdapter.fromTensors(only, null, Map.of(), "lyco"));
    }

    @Test
    void diffusionModelPathsAreNotMistakenForDiffTensors() {
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear("model.diffusion_model.out", 2, 4, 4, Precision.F32),
                        null,
                        Map.of(),
                        "x");
        assertEquals("model.diffusion_model.out", a.modules().getFirst().name());
    }

    @Test
    void otherPeftTypesAndUnmergeableFeaturesAreRefused() {
        Map<String, AdapterTensor> t = f.peftLinear("q", 2, 4, 4, Precision.F32);
        LoraException e =
                refused(
                        LoraError.UnsupportedFormat,
                        () ->
                                LoraAdapter.fromTensors(
                                        t, "{\"peft_type\": \"LOHA\"}", Map.of(), "x"));
        assertTrue(e.getMessage().contains("LOHA"), e.getMessage());
        refused(
                LoraError.Unsupported,
                () ->
                        LoraAdapter.fromTensors(
                                t,
                                Fixtures.config(2, 2, "\"target_parameters\": [\"experts\"]"),
                                Map.of(),
                                "x"));
        refused(
                LoraError.Unsupported,
                () ->
                        LoraAdapter.fromTensors(
                                t,
                                Fixtures.config(2, 2, "\"alora_invocation_tokens\": [1, 2]"),
                                Map.of(),
                                "x"));
        refused(
                LoraError.InvalidConfig,
                () -> LoraAdapter.fromTensors(t, "{\"r\": -3}", Map.of(), "x"));
        refused(
                LoraError.InvalidConfig,
                () -> LoraAdapter.fromTensors(t, "{\"r\": 2, ", Map.of(), "x"));
        refused(
                LoraError.InvalidConfig,
                () ->
                        LoraAdapter.fromTensors(
                                t,
                                Fixtures.config(2, 2, "\"target_modules\": \"([\""),
                                Map.of(),
                                "x"));
    }

    @Test
    void rankInTensorsIsCheckedAgainstTheConfig() {
        Map<String, AdapterTensor> t =
                f.peftLinear("model.layers.0.self_attn.q_proj", 16, 8, 8, Precision.F32);
        LoraException e =
                refused(
                        LoraError.InvalidConfig,
                        () -> LoraAdapter.fromTensors(t, Fixtures.config(8, 8, ""), Map.of(), "x"));
        assertTrue(
                e.getMessage().contains("rank 16")
                        && e.getMessage().contains("says 8")
                        && e.getMessage().contains("model.layers.0.self_attn.q_proj"),
                e.getMessage());
        // rank_pattern resolves it, keyed with PEFT's (.*\.)?(key)$ rule
        LoraAdapter ok =
                LoraAdapter.fromTensors(
                        t,
                        Fixtures.config(8, 8, "\"rank_pattern\": {\"q_proj\": 16}"),
                        Map.of(),
                        "x");
        assertEquals(16, ok.modules().getFirst().rank());
    }

    @Test
    void patternKeysFollowPeft() {
        List<String> keys = List.of("q_proj", "layers\\.1\\..*");
        assertEquals("q_proj", PeftConfig.patternKey(keys, "model.layers.0.self_attn.q_proj"));
        assertEquals("q_proj", PeftConfig.patternKey(keys, "q_proj"));
        assertNull(
                PeftConfig.patternKey(keys, "model.layers.0.self_attn.xq_proj"),
                "suffix must start at a dot");
        assertEquals("layers\\.1\\..*", PeftConfig.patternKey(keys, "model.layers.1.mlp.up_proj"));
        assertNull(PeftConfig.patternKey(keys, "model.layers.10.mlp.up_proj"));
    }

    @Test
    void targetModulesListRegexAndExclude() {
        PeftConfig list =
                PeftConfig.parse(
                        Fixtures.config(
                                8,
                                8,
                                "\"target_modules\": [\"q_proj\"], \"exclude_modules\":"
                                        + " [\"layers.3.self_attn.q_proj\"]"),
                        "c");
        assertTrue(list.targets("model.layers.0.self_attn.q_proj"));
        assertTrue(!list.targets("model.layers.0.self_attn.k_proj"));
        assertTrue(!list.targets("model.layers.3.self_attn.q_proj"));
        PeftConfig regex =
                PeftConfig.parse(
                        Fixtures.config(8, 8, "\"target_modules\": \".*\\\\.(q|v)_proj\""), "c");
        assertTrue(regex.targets("model.layers.0.self_attn.v_proj"));
        assertTrue(!regex.targets("model.layers.0.self_attn.o_proj"));
        PeftConfig all =
                PeftConfig.parse(Fixtures.config(8, 8, "\"target_modules\": \"all-linear\""), "c");
        assertTrue(all.targets("anything"));
        Map<String, AdapterTensor> t =
                f.peftLinear("model.layers.0.self_attn.k_proj", 8, 4, 4, Precision.F32);
        LoraException e =
                refused(
                        LoraError.InvalidConfig,
                        () ->
                                LoraAdapter.fromTensors(
                                        t,
                                        Fixtures.config(8, 8, "\"target_modules\": [\"q_proj\"]"),
                                        Map.of(),
                                        "x"));
        assertTrue(
                e.getMessage().contains("k_proj") && e.getMessage().contains("target_modules"),
                e.getMessage());
    }

    @Test
    void wrongShapeNamesModuleAndBothShapes() {
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear("model.layers.0.mlp.up_proj", 4, 64, 176, Precision.F16),
                        Fixtures.config(4, 4, ""),
                        Map.of(),
                        "adapter-x");
        List<WeightSpec> base =
                List.of(
                        new WeightSpec(
                                "model.layers.0.mlp.up_proj.weight",
                                DType.F16,
                                new long[] {176, 32}));
        LoraException e = refused(LoraError.ShapeMismatch, () -> MergePlan.of(base, a, 1.0));
        assertTrue(
                e.getMessage().contains("model.layers.0.mlp.up_proj")
                        && e.getMessage().contains("[176, 32]")
                        && e.getMessage().contains("[176, 64]")
                        && e.getMessage().contains("adapter-x"),
                e.getMessage());
    }

    @Test
    void missingModuleIsNamed() {
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear("model.layers.7.self_attn.q_proj", 4, 8, 8, Precision.F16),
                        Fixtures.config(4, 4, ""),
                        Map.of(),
                        "adapter-y");
        List<WeightSpec> base =
                List.of(
                        new WeightSpec(
                                "model.layers.0.self_attn.q_proj.weight",
                                DType.F16,
                                new long[] {8, 8}));
        LoraException e = refused(LoraError.MissingModule, () -> MergePlan.of(base, a, 1.0));
        assertTrue(e.getMessage().contains("model.layers.7.self_attn.q_proj"), e.getMessage());
    }

    @Test
    void wrongDtypeIsNamed() {
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear("m.q", 2, 8, 8, Precision.F16),
                        Fixtures.config(2, 2, ""),
                        Map.of(),
                        "z");
        List<WeightSpec> base = List.of(new WeightSpec("m.q.weight", DType.I8, new long[] {8, 8}));
        LoraException e = refused(LoraError.WrongDtype, () -> MergePlan.of(base, a, 1.0));
        assertTrue(e.getMessage().contains("m.q") && e.getMessage().contains("I8"), e.getMessage());
    }

    @Test
    void brokenModulesAreRefused() {
        Map<String, AdapterTensor> onlyA =
                new LinkedHashMap<>(f.peftLinear("m.q", 2, 8, 8, Precision.F16));
        onlyA.remove("base_model.model.m.q.lora_B.weight");
        refused(
                LoraError.InvalidAdapter,
                () -> LoraAdapter.fromTensors(onlyA, null, Map.of(), "x"));
        Map<String, AdapterTensor> badB =
                new LinkedHashMap<>(f.peftLinear("m.q", 2, 8, 8, Precision.F16));
        badB.put("base_model.model.m.q.lora_B.weight", f.tensor(Precision.F16, 1, 8, 3));
        LoraException e =
                refused(
                        LoraError.ShapeMismatch,
                        () -> LoraAdapter.fromTensors(badB, null, Map.of(), "x"));
        assertTrue(
                e.getMessage().contains("[8, 3]") && e.getMessage().contains("[2, 8]"),
                e.getMessage());
        Map<String, AdapterTensor> stray =
                new LinkedHashMap<>(f.peftLinear("m.q", 2, 8, 8, Precision.F16));
        stray.put("base_model.model.m.q.something", f.tensor(Precision.F16, 1, 2));
        refused(
                LoraError.InvalidAdapter,
                () -> LoraAdapter.fromTensors(stray, null, Map.of(), "x"));
        Map<String, AdapterTensor> twoAdapters = new LinkedHashMap<>();
        twoAdapters.put("base_model.model.m.q.lora_A.one.weight", f.tensor(Precision.F16, 1, 2, 8));
        twoAdapters.put("base_model.model.m.q.lora_B.one.weight", f.tensor(Precision.F16, 1, 8, 2));
        twoAdapters.put("base_model.model.m.k.lora_A.two.weight", f.tensor(Precision.F16, 1, 2, 8));
        twoAdapters.put("base_model.model.m.k.lora_B.two.weight", f.tensor(Precision.F16, 1, 8, 2));
        refused(
                LoraError.InvalidAdapter,
                () -> LoraAdapter.fromTensors(twoAdapters, null, Map.of(), "x"));
        refused(
                LoraError.InvalidAdapter,
                () ->
                        LoraAdapter.fromTensors(
                                Map.of("weight", f.tensor(Precision.F16, 1, 2)),
                                null,
                                Map.of(),
                                "x"));
        Map<String, AdapterTensor> doraMissing = f.peftLinear("m.q", 2, 8, 8, Precision.F16);
        refused(
                LoraError.InvalidAdapter,
                () ->
                        LoraAdapter.fromTensors(
                                doraMissing,
                                Fixtures.config(2, 2, "\"use_dora\": true"),
                                Map.of(),
                                "x"));
        Map<String, AdapterTensor> badMagnitude =
                new LinkedHashMap<>(f.peftLinear("m.q", 2, 8, 8, Precision.F16));
        badMagnitude.put(
                "base_model.model.m.q.lora_magnitude_vector", f.tensor(Precision.F32, 1, 7));
        refused(
                LoraError.ShapeMismatch,
                () -> LoraAdapter.fromTensors(badMagnitude, null, Map.of(), "x"));
    }

    @Test
    void loraBiasWithoutBaseBiasAndMisfitSavedModules() {
        Map<String, AdapterTensor> t =
                new LinkedHashMap<>(f.peftLinear("m.q", 2, 8, 8, Precision.F16));
        t.put("base_model.model.m.q.lora_B.bias", f.tensor(Precision.F32, 1, 8));
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        t, Fixtures.config(2, 2, "\"lora_bias\": true"), Map.of(), "x");
        refused(
                LoraError.MissingModule,
                () ->
                        MergePlan.of(
                                List.of(new WeightSpec("m.q.weight", DType.F16, new long[] {8, 8})),
                                a,
                                1.0));
        Map<String, AdapterTensor> s =
                new LinkedHashMap<>(f.peftLinear("m.q", 2, 8, 8, Precision.F16));
        s.put("base_model.model.head.weight", f.tensor(Precision.F32, 1, 3, 8));
        LoraAdapter b =
                LoraAdapter.fromTensors(
                        s, Fixtures.config(2, 2, "\"modules_to_save\": [\"head\"]"), Map.of(), "x");
        LoraException e =
                refused(
                        LoraError.ShapeMismatch,
                        () ->
                                MergePlan.of(
                                        List.of(
                                                new WeightSpec(
                                                        "m.q.weight", DType.F16, new long[] {8, 8}),
                                                new WeightSpec(
                                                        "head.weight",
                                                        DType.F16,
                                                        new long[] {5, 8})),
                                        b,
                                        1.0));
        assertTrue(
                e.getMessage().contains("[5, 8]") && e.getMessage().contains("[3, 8]"),
                e.getMessage());
    }
}
