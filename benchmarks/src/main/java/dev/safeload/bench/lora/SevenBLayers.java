package dev.safeload.bench.lora;

import dev.safeload.lora.AdapterTensor;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.WeightSpec;
import dev.safeload.safetensors.DType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Llama-2-7B's linear weights (issue 5): per layer q, k, v, o of 4096×4096 and gate, up of
 * 11008×4096, down of 4096×11008; a rank-r PEFT adapter on all seven.
 */
final class SevenBLayers {
    static final int HIDDEN = 4096;
    static final int MLP = 11008;

    /** Module, then its (out, in) shape: h = hidden, m = MLP width. */
    private static final String[][] MODULES = {
        {"self_attn.q_proj", "h", "h"},
        {"self_attn.k_proj", "h", "h"},
        {"self_attn.v_proj", "h", "h"},
        {"self_attn.o_proj", "h", "h"},
        {"mlp.gate_proj", "m", "h"},
        {"mlp.up_proj", "m", "h"},
        {"mlp.down_proj", "h", "m"},
    };

    private SevenBLayers() {}

    static List<WeightSpec> specs(int layers, DType dtype) {
        return specs(layers, dtype, HIDDEN, MLP);
    }

    /**
     * The same seven modules per layer with other widths: the GPU scripts' smoke mode runs them
     * small against the CUDA emulator, whose GEMM is a host loop.
     */
    static List<WeightSpec> specs(int layers, DType dtype, int hidden, int mlp) {
        List<WeightSpec> specs = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            for (String[] m : MODULES) {
                specs.add(
                        new WeightSpec(
                                "model.layers." + l + "." + m[0] + ".weight",
                                dtype,
                                new long[] {width(m[1], hidden, mlp), width(m[2], hidden, mlp)}));
            }
        }
        return specs;
    }

    private static long width(String role, int hidden, int mlp) {
        return role.equals("h") ? hidden : mlp;
    }

    /** A PEFT adapter (alpha = 2r) on every weight of {@code specs}, small random values. */
    static LoraAdapter adapter(List<WeightSpec> specs, int rank, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, AdapterTensor> tensors = new LinkedHashMap<>();
        for (WeightSpec s : specs) {
            String module = s.name().substring(0, s.name().length() - ".weight".length());
            long out = s.shape()[0];
            long in = s.shape()[1];
            tensors.put("base_model.model." + module + ".lora_A.weight", tensor(random, rank, in));
            tensors.put("base_model.model." + module + ".lora_B.weight", tensor(random, out, rank));
        }
        return LoraAdapter.fromTensors(
                tensors,
                "{\"peft_type\": \"LORA\", \"r\": " + rank + ", \"lora_alpha\": " + 2 * rank + "}",
                Map.of(),
                "bench-r" + rank);
    }

    private static AdapterTensor tensor(SplittableRandom random, long rows, long cols) {
        float[] v = new float[Math.toIntExact(rows * cols)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((random.nextDouble() - 0.5) * 0.02);
        }
        return new AdapterTensor(DType.F32, new long[] {rows, cols}, v);
    }

    /** Bytes of all weights in {@code specs} at 2 bytes per element (F16/BF16). */
    static long bytes(List<WeightSpec> specs, int elementBytes) {
        return specs.stream().mapToLong(s -> s.elementCount() * elementBytes).sum();
    }
}
