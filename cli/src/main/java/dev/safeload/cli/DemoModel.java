package dev.safeload.cli;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The built-in default for {@code safeload demo}: a small Llama-shaped model in F16, saved the way
 * {@code transformers}' {@code save_pretrained} lays a sharded model out (two shards, an index, a
 * config), and a PEFT LoRA adapter for its attention projections. The values come from a fixed
 * seed, so every run publishes the same bytes and the same commit.
 *
 * @param layers decoder layers
 * @param hidden hidden size (q/k/v/o are hidden × hidden)
 * @param intermediate MLP size (gate/up are intermediate × hidden, down is hidden × intermediate)
 * @param vocab vocabulary size (embedding and head)
 * @param rank LoRA rank
 * @param alpha LoRA alpha (scale = alpha / rank)
 */
record DemoModel(int layers, int hidden, int intermediate, int vocab, int rank, int alpha) {
    static final DemoModel DEFAULT = new DemoModel(4, 256, 704, 2048, 8, 16);
    static final String MODEL_REPO = "safeload/tiny-llama-demo";
    static final String ADAPTER_REPO = "safeload/tiny-llama-demo-lora";
    static final List<String> ADAPTED = List.of("q_proj", "v_proj");
    private static final long SEED = 0x5AFE10ADL;

    double scale() {
        return (double) alpha / rank;
    }

    /** Writes the base model (two shards, index, config.json) into {@code dir}. */
    void writeModel(Path dir) {
        SplittableRandom random = new SplittableRandom(SEED);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[] {vocab, hidden});
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            for (String proj : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                shapes.put(p + "self_attn." + proj + ".weight", new long[] {hidden, hidden});
            }
            shapes.put(p + "mlp.gate_proj.weight", new long[] {intermediate, hidden});
            shapes.put(p + "mlp.up_proj.weight", new long[] {intermediate, hidden});
            shapes.put(p + "mlp.down_proj.weight", new long[] {hidden, intermediate});
            shapes.put(p + "input_layernorm.weight", new long[] {hidden});
            shapes.put(p + "post_attention_layernorm.weight", new long[] {hidden});
        }
        shapes.put("model.norm.weight", new long[] {hidden});
        shapes.put("lm_head.weight", new long[] {vocab, hidden});

        // Two shards split at the middle layer, named as transformers names them.
        List<String> shardNames =
                List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors");
        List<SafetensorsWriter> shards =
                List.of(SafetensorsWriter.create(), SafetensorsWriter.create());
        Map<String, String> weightMap = new LinkedHashMap<>();
        long totalSize = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = e.getKey();
            int shard =
                    name.startsWith("model.layers.") && layerOf(name) < layers / 2
                                    || name.startsWith("model.embed")
                            ? 0
                            : 1;
            boolean norm = name.endsWith("norm.weight");
            byte[] bytes = f16(random, count(e.getValue()), norm ? 1.0 : 0.0, norm ? 0.01 : 0.02);
            shards.get(shard).add(name, DType.F16, e.getValue(), bytes);
            weightMap.put(name, shardNames.get(shard));
            totalSize += bytes.length;
        }
        try {
            Files.createDirectories(dir);
            for (int s = 0; s < shards.size(); s++) {
                shards.get(s)
                        .metadata(Map.of("format", "pt"))
                        .write(dir.resolve(shardNames.get(s)));
            }
            StringBuilder index =
                    new StringBuilder(
                            "{\n  \"metadata\": {\n    \"total_size\": "
                                    + totalSize
                                    + "\n  },\n  \"weight_map\": {\n");
            List<String> names = new ArrayList<>(weightMap.keySet());
            names.sort(null);
            for (int i = 0; i < names.size(); i++) {
                index.append("    \"")
                        .append(names.get(i))
                        .append("\": \"")
                        .append(weightMap.get(names.get(i)))
                        .append(i + 1 < names.size() ? "\",\n" : "\"\n");
            }
            index.append("  }\n}\n");
            Files.writeString(
                    dir.resolve("model.safetensors.index.json"), index, StandardCharsets.UTF_8);
            Files.writeString(
                    dir.resolve("config.json"),
                    String.format(
                            Locale.ROOT,
                            """
                            {
                              "architectures": ["LlamaForCausalLM"],
                              "model_type": "llama",
                              "hidden_size": %d,
                              "intermediate_size": %d,
                              "num_hidden_layers": %d,
                              "num_attention_heads": 8,
                              "num_key_value_heads": 8,
                              "vocab_size": %d,
                              "torch_dtype": "float16"
                            }
                            """,
                            hidden,
                            intermediate,
                            layers,
                            vocab),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a PEFT adapter (adapter_config.json + adapter_model.safetensors) into {@code dir}. */
    void writeAdapter(Path dir) {
        SplittableRandom random = new SplittableRandom(SEED + 1);
        SafetensorsWriter writer = SafetensorsWriter.create();
        for (int i = 0; i < layers; i++) {
            for (String proj : ADAPTED) {
                // PEFT's key layout (docs/lora.md §1.3): A is r × in, B is out × r.
                String module = "base_model.model.model.layers." + i + ".self_attn." + proj;
                writer.add(
                        module + ".lora_A.weight",
                        DType.F16,
                        new long[] {rank, hidden},
                        f16(random, (long) rank * hidden, 0, 0.05));
                writer.add(
                        module + ".lora_B.weight",
                        DType.F16,
                        new long[] {hidden, rank},
                        f16(random, (long) hidden * rank, 0, 0.05));
            }
        }
        try {
            Files.createDirectories(dir);
            writer.metadata(Map.of("format", "pt")).write(dir.resolve("adapter_model.safetensors"));
            Files.writeString(
                    dir.resolve("adapter_config.json"),
                    String.format(
                            Locale.ROOT,
                            """
                            {
                              "base_model_name_or_path": "%s",
                              "peft_type": "LORA",
                              "task_type": "CAUSAL_LM",
                              "r": %d,
                              "lora_alpha": %d,
                              "lora_dropout": 0.0,
                              "fan_in_fan_out": false,
                              "use_rslora": false,
                              "bias": "none",
                              "target_modules": ["q_proj", "v_proj"]
                            }
                            """,
                            MODEL_REPO,
                            rank,
                            alpha),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int layerOf(String name) {
        String rest = name.substring("model.layers.".length());
        return Integer.parseInt(rest.substring(0, rest.indexOf('.')));
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** {@code n} normal values (mean, std) as little-endian F16, rounded to nearest even. */
    private static byte[] f16(SplittableRandom random, long n, double mean, double std) {
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(n * 2)).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            double u = 1 - random.nextDouble();
            double v = random.nextDouble();
            double g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
            out.putShort(Float.floatToFloat16((float) (mean + std * g)));
        }
        return out.array();
    }
}
