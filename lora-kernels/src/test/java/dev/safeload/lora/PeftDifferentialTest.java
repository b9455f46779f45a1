package dev.safeload.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.TensorInfo;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Differential suite against peft: every case of {@code fixtures/peft_cases.py} (target_modules as
 * regex and list, layers_to_transform, exclude_modules, all-linear, rank/alpha patterns, rsLoRA,
 * fan_in_fan_out, embedding and lm_head LoRA, tied embeddings, modules_to_save, bias, lora_bias,
 * DoRA on linear, Conv1D and embedding layers, conv LoRA, in F32, F16 and BF16 bases) for two fresh
 * seeds, generated in one Python process (importing torch costs seconds). Each base is merged by
 * {@link ModelMerger} with the adapter peft saved, and compared tensor by tensor with peft's {@code
 * merge_and_unload()} of the same two: the same names, dtypes and shapes, the same set of tensors
 * changed, values within tolerance. Where peft refuses a config the case is skipped with peft's
 * reason; where it saves an adapter but refuses to merge it (grouped conv), ours must refuse.
 *
 * <p>Tolerances. F32 base: 1e-5 of the tensor's largest magnitude (both sides accumulate in fp32 in
 * a different order; DoRA's row norms add a few ulps). F16/BF16 bases: we round {@code W + delta}
 * once; peft does too for linear layers with an fp32 adapter (its default {@code
 * autocast_adapter_dtype}; {@code W += delta} promotes), but rounds the delta to the weight dtype
 * first for embeddings (lora/layer.py Embedding.merge: {@code delta.to(orig_dtype)}) and for
 * F16/BF16 adapters (get_delta_weight), and sums DoRA's norms in another order. So every element
 * may differ by one step (ulp) of the dtype at the result plus half a step at the delta's size
 * {@code |merged - base|}, no more. With several adapters peft also rounds the weight between them,
 * at magnitudes the files do not show: there one step at the tensor's largest magnitude per adapter
 * is allowed (about PeftMergeAndUnloadTest's 1e-3 of the maximum, for F16). That is stricter than
 * PeftMergeAndUnloadTest's 1e-3 of the tensor maximum wherever elements are smaller than the
 * maximum or deltas smaller than weights.
 */
class PeftDifferentialTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;

    @TestFactory
    Stream<DynamicTest> mergesMatchPeft() {
        PythonOracle.assumeTorch("torch", "transformers", "peft", "safetensors");
        long seed1 = ThreadLocalRandom.current().nextInt(1 << 30);
        long seed2 = ThreadLocalRandom.current().nextInt(1 << 30);
        PythonOracle.runTorch(
                        PythonFixtureMergeTest.script("peft_cases.py"),
                        List.of(dir.toString(), Long.toString(seed1), Long.toString(seed2)))
                .orThrow();
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : manifest()) {
            String label = c.get("name").asText() + " [seed=" + c.get("seed").asLong() + "]";
            Path caseDir = Path.of(c.get("dir").asText());
            tests.add(
                    DynamicTest.dynamicTest(
                            label,
                            () -> {
                                if (c.path("adapter_saved").asBoolean(false)) {
                                    refusesLikePeft(caseDir, label, c.get("refused").asText());
                                    return;
                                }
                                // peft refusing a config is not ours to check: reported as skipped,
                                // with its reason
                                Assumptions.assumeFalse(
                                        c.has("refused"),
                                        () ->
                                                "peft refuses "
                                                        + label
                                                        + ": "
                                                        + c.path("refused").asText());
                                List<String> adapters = new ArrayList<>();
                                c.get("adapters").forEach(a -> adapters.add(a.asText()));
                                check(caseDir, adapters, label);
                            }));
        }
        assertFalse(tests.isEmpty(), "peft_cases.py wrote no cases");
        return tests.stream();
    }

    private JsonNode manifest() {
        try {
            return JSON.readTree(dir.resolve("cases.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * peft saved the adapter but cannot merge it: ours must refuse too, with an error, not merge
     * something else.
     */
    private static void refusesLikePeft(Path caseDir, String label, String peftError) {
        Path base = caseDir.resolve("base").resolve(SafetensorsModel.SINGLE_FILE);
        LoraException e =
                assertThrows(
                        LoraException.class,
                        () -> {
                            try (LoraBackend cpu = new CpuLoraBackend(2)) {
                                ModelMerger.merge(
                                        base,
                                        List.of(
                                                new ModelMerger.WeightedAdapter(
                                                        LoraAdapter.read(
                                                                caseDir.resolve("adapter")),
                                                        1.0)),
                                        1.0,
                                        cpu,
                                        caseDir.resolve("ours.safetensors"));
                            }
                        },
                        label + ": peft refuses to merge (" + peftError + ") but ours merged");
        assertFalse(
                Files.exists(caseDir.resolve("ours.safetensors")),
                label + ": a refused merge left a file");
        assertTrue(
                e.getMessage().contains(caseDir.resolve("adapter").toString()),
                label + ": " + e.getMessage());
    }

    private static void check(Path caseDir, List<String> adapterDirs, String label) {
        // several adapters: merged in the order peft merges them
        // (merge_and_unload(adapter_names=...)), each at weight 1
        List<ModelMerger.WeightedAdapter> adapters =
                adapterDirs.stream()
                        .map(
                                a ->
                                        new ModelMerger.WeightedAdapter(
                                                LoraAdapter.read(caseDir.resolve(a)), 1.0))
                        .toList();
        Path base = caseDir.resolve("base").resolve(SafetensorsModel.SINGLE_FILE);
        Path out = caseDir.resolve("ours.safetensors");
        try (LoraBackend cpu = new CpuLoraBackend(2)) {
            ModelMerger.merge(base, adapters, 1.0, cpu, out);
        }
        try (SafetensorsModel ours = SafetensorsModel.open(out);
                SafetensorsModel peft =
                        SafetensorsModel.open(
                                caseDir.resolve("merged").resolve(SafetensorsModel.SINGLE_FILE));
                SafetensorsModel original = SafetensorsModel.open(base)) {
            assertEquals(
                    new TreeSet<>(peft.tensorNames()),
                    new TreeSet<>(ours.tensorNames()),
                    label + ": tensor names");
            TreeSet<String> changedByPeft = new TreeSet<>();
            TreeSet<String> changedByUs = new TreeSet<>();
            for (TensorInfo t : peft.tensors()) {
                TensorInfo mine = ours.info(t.name());
                assertEquals(t.dtype(), mine.dtype(), label + ": dtype of " + t.name());
                assertArrayEquals(t.shape(), mine.shape(), label + ": shape of " + t.name());
                float[] want = peft.tensor(t.name()).toFloatArray();
                float[] have = ours.tensor(t.name()).toFloatArray();
                float[] before = original.tensor(t.name()).toFloatArray();
                if (!Arrays.equals(want, before)) {
                    changedByPeft.add(t.name());
                }
                if (!Arrays.equals(have, before)) {
                    changedByUs.add(t.name());
                }
                compare(t.name(), t.dtype(), want, have, before, adapters.size(), label);
            }
            assertFalse(changedByPeft.isEmpty(), label + ": peft's merge changed nothing");
            assertEquals(changedByPeft, changedByUs, label + ": tensors changed by the merge");
        }
    }

    private static void compare(
            String name,
            DType dtype,
            float[] want,
            float[] have,
            float[] before,
            int adapters,
            String label) {
        if (dtype == DType.F32) {
            double max = 0;
            double err = 0;
            int worst = 0;
            for (int i = 0; i < want.length; i++) {
                max = Math.max(max, Math.abs(want[i]));
                double e = Math.abs(want[i] - have[i]);
                if (e > err || Double.isNaN(e)) {
                    err = e;
                    worst = i;
                }
            }
            if (!(err <= 1e-5 * max)) {
                fail(
                        String.format(
                                Locale.ROOT,
                                "%s: %s[%d] is %s, peft has %s (max error %.3g, 1e-5 of max |w|"
                                        + " %.3g)",
                                label,
                                name,
                                worst,
                                have[worst],
                                want[worst],
                                err,
                                1e-5 * max));
            }
            return;
        }
        int mantissaBits =
                switch (dtype) {
                    case F16 -> 10;
                    case BF16 -> 7;
                    default ->
                            throw new AssertionError(
                                    label + ": unexpected dtype " + dtype + " of " + name);
                };
        float largest = 0;
        for (int i = 0; i < want.length; i++) {
            largest = Math.max(largest, Math.max(Math.abs(want[i]), Math.abs(before[i])));
        }
        // peft rounds the weight after each adapter, at a magnitude the files do not show: one step
        // at
        // the tensor's largest magnitude per adapter (PeftMergeAndUnloadTest's 1e-3 of the maximum,
        // for F16)
        float betweenAdapters = adapters > 1 ? adapters * step(largest, mantissaBits, dtype) : 0;
        for (int i = 0; i < want.length; i++) {
            float result = Math.max(Math.abs(want[i]), Math.abs(have[i]));
            float allowed =
                    Math.max(
                            betweenAdapters,
                            step(result, mantissaBits, dtype)
                                    + step(Math.abs(want[i] - before[i]), mantissaBits, dtype) / 2);
            if (!(Math.abs(want[i] - have[i]) <= allowed)) {
                fail(
                        String.format(
                                Locale.ROOT,
                                "%s: %s[%d] is %s, peft has %s, base %s (%s apart, allowed %s)",
                                label,
                                name,
                                i,
                                have[i],
                                want[i],
                                before[i],
                                Math.abs(want[i] - have[i]),
                                allowed));
            }
        }
    }

    /**
     * The spacing of {@code dtype} values at {@code magnitude}: 2^(exponent - mantissa bits), at
     * least the subnormal one.
     */
    private static float step(float magnitude, int mantissaBits, DType dtype) {
        float subnormal = dtype == DType.F16 ? 0x1p-24f : 0x1p-133f;
        return Math.max(Math.scalb(1f, Math.getExponent(magnitude) - mantissaBits), subnormal);
    }
}
