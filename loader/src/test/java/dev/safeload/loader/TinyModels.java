package dev.safeload.loader;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Small Llama-shaped models and adapters written with the safetensors writer, from a seed the tests
 * print: a sharded model (two shards and an index, as transformers saves one), PEFT adapters (one
 * also saving a whole tensor, as {@code modules_to_save} does), a kohya adapter, and adapters that
 * do not fit.
 */
final class TinyModels {
    static final int HIDDEN = 32;
    static final int MLP = 48;
    static final int VOCAB = 64;
    static final int LAYERS = 2;

    /** An integer matrix (a buffer some checkpoints save under a weight-like name). */
    static final String INT_TENSOR = "model.layers.0.self_attn.rotary.weight";

    final long seed;
    private final SplittableRandom random;

    TinyModels(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    String seedText() {
        return " [seed=" + seed + "L]";
    }

    /** The tensors of the model: name to shape, in file order. */
    static Map<String, long[]> shapes() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[] {VOCAB, HIDDEN});
        for (int i = 0; i < LAYERS; i++) {
            String p = "model.layers." + i + ".";
            for (String proj : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                shapes.put(p + "self_attn." + proj + ".weight", new long[] {HIDDEN, HIDDEN});
            }
            shapes.put(p + "mlp.up_proj.weight", new long[] {MLP, HIDDEN});
            shapes.put(p + "mlp.down_proj.weight", new long[] {HIDDEN, MLP});
            shapes.put(p + "input_layernorm.weight", new long[] {HIDDEN});
        }
        shapes.put("lm_head.weight", new long[] {VOCAB, HIDDEN});
        return shapes;
    }

    /**
     * A model in {@code dtype}; {@code sharded}: two shards and an index in the folder {@code dir},
     * else {@code dir/model.safetensors}. Also a {@code config.json}, and the I32 matrix {@link
     * #INT_TENSOR}.
     */
    Path model(Path dir, DType dtype, boolean sharded) {
        SafetensorsWriter first = SafetensorsWriter.create().metadata(Map.of("format", "pt"));
        SafetensorsWriter second = SafetensorsWriter.create().metadata(Map.of("format", "pt"));
        Map<String, String> weightMap = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, long[]> e : shapes().entrySet()) {
            boolean toFirst = !sharded || i++ < shapes().size() / 2;
            (toFirst ? first : second)
                    .add(e.getKey(), dtype, e.getValue(), values(dtype, count(e.getValue()), 0.05));
            weightMap.put(
                    e.getKey(),
                    toFirst
                            ? "model-00001-of-00002.safetensors"
                            : "model-00002-of-00002.safetensors");
        }
        second.add(INT_TENSOR, DType.I32, new long[] {4, 4}, new byte[64]);
        weightMap.put(INT_TENSOR, "model-00002-of-00002.safetensors");
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\"}");
            if (!sharded) {
                first.add(INT_TENSOR, DType.I32, new long[] {4, 4}, new byte[64]);
                first.write(dir.resolve("model.safetensors"));
                return dir;
            }
            first.write(dir.resolve("model-00001-of-00002.safetensors"));
            second.write(dir.resolve("model-00002-of-00002.safetensors"));
            StringBuilder json = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
            int n = 0;
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                json.append(n++ == 0 ? "" : ", ")
                        .append('"')
                        .append(e.getKey())
                        .append("\": \"")
                        .append(e.getValue())
                        .append('"');
            }
            Files.writeString(
                    dir.resolve("model.safetensors.index.json"),
                    json.append("}}\n"),
                    StandardCharsets.UTF_8);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A PEFT adapter of rank {@code r} on {@code targets} (q_proj, v_proj, ...) of every layer,
     * saved in {@code dtype}; with {@code wholeHead}, it also saves {@code lm_head} whole (PEFT's
     * {@code modules_to_save} layout).
     */
    Path peft(Path dir, int r, int alpha, List<String> targets, DType dtype, boolean wholeHead) {
        SafetensorsWriter w = SafetensorsWriter.create().metadata(Map.of("format", "pt"));
        for (int layer = 0; layer < LAYERS; layer++) {
            for (String proj : targets) {
                String group =
                        proj.endsWith("_proj") && !proj.startsWith("up") && !proj.startsWith("down")
                                ? "self_attn"
                                : "mlp";
                String m = "base_model.model.model.layers." + layer + "." + group + "." + proj;
                long[] base =
                        shapes().get(
                                        "model.layers."
                                                + layer
                                                + "."
                                                + group
                                                + "."
                                                + proj
                                                + ".weight");
                w.add(
                        m + ".lora_A.weight",
                        dtype,
                        new long[] {r, base[1]},
                        values(dtype, (long) r * base[1], 0.1));
                w.add(
                        m + ".lora_B.weight",
                        dtype,
                        new long[] {base[0], r},
                        values(dtype, base[0] * r, 0.1));
            }
        }
        String extra = "";
        if (wholeHead) {
            w.add(
                    "base_model.model.lm_head.modules_to_save.default.weight",
                    dtype,
                    new long[] {VOCAB, HIDDEN},
                    values(dtype, (long) VOCAB * HIDDEN, 0.05));
            extra = ", \"modules_to_save\": [\"lm_head\"]";
        }
        try {
            Files.createDirectories(dir);
            w.write(dir.resolve("adapter_model.safetensors"));
            Files.writeString(
                    dir.resolve("adapter_config.json"),
                    "{\"peft_type\": \"LORA\", \"r\": "
                            + r
                            + ", \"lora_alpha\": "
                            + alpha
                            + ", \"target_modules\": "
                            + quoted(targets)
                            + extra
                            + ", \"base_model_name_or_path\": \"tiny\"}");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A kohya adapter file (lora_down/lora_up/alpha) on the MLP up projections. */
    Path kohya(Path file, int r, float alpha, DType dtype) {
        SafetensorsWriter w = SafetensorsWriter.create();
        for (int layer = 0; layer < LAYERS; layer++) {
            String name = "lora_unet_model_layers_" + layer + "_mlp_up_proj";
            w.add(
                    name + ".lora_down.weight",
                    dtype,
                    new long[] {r, HIDDEN},
                    values(dtype, (long) r * HIDDEN, 0.1));
            w.add(
                    name + ".lora_up.weight",
                    dtype,
                    new long[] {MLP, r},
                    values(dtype, (long) MLP * r, 0.1));
            w.add(name + ".alpha", DType.F32, new long[0], f32(alpha));
        }
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        w.write(file);
        return file;
    }

    /** A PEFT adapter for a module the model lacks ({@code self_attn.x_proj}). */
    Path missingModule(Path dir) {
        return rawPeft(dir, "model.layers.0.self_attn.x_proj", 4, HIDDEN, HIDDEN, DType.F32);
    }

    /** A PEFT adapter whose q_proj factors do not fit (in = HIDDEN + 1). */
    Path wrongShape(Path dir) {
        return rawPeft(dir, "model.layers.1.self_attn.q_proj", 4, HIDDEN + 1, HIDDEN, DType.F32);
    }

    /** A PEFT adapter on the I32 matrix {@link #INT_TENSOR}: LoRA cannot merge into it. */
    Path wrongDtype(Path dir) {
        return rawPeft(dir, "model.layers.0.self_attn.rotary", 1, 4, 4, DType.F32);
    }

    private Path rawPeft(Path dir, String module, int r, long in, long out, DType dtype) {
        SafetensorsWriter w = SafetensorsWriter.create();
        // A first module that fits, so a misfit found late must still leave it unmerged.
        String ok = "base_model.model.model.layers.0.self_attn.q_proj";
        w.add(
                ok + ".lora_A.weight",
                dtype,
                new long[] {r, HIDDEN},
                values(dtype, (long) r * HIDDEN, 0.1));
        w.add(
                ok + ".lora_B.weight",
                dtype,
                new long[] {HIDDEN, r},
                values(dtype, (long) HIDDEN * r, 0.1));
        String m = "base_model.model." + module;
        w.add(m + ".lora_A.weight", dtype, new long[] {r, in}, values(dtype, r * in, 0.1));
        w.add(m + ".lora_B.weight", dtype, new long[] {out, r}, values(dtype, out * r, 0.1));
        try {
            Files.createDirectories(dir);
            w.write(dir.resolve("adapter_model.safetensors"));
            Files.writeString(
                    dir.resolve("adapter_config.json"),
                    "{\"peft_type\": \"LORA\", \"r\": " + r + ", \"lora_alpha\": " + r + "}");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String quoted(List<String> names) {
        return names.stream().map(n -> "\"" + n + "\"").toList().toString();
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Uniform values in ±{@code scale} as little-endian {@code dtype} (F32, F16 or BF16). */
    byte[] values(DType dtype, long n, double scale) {
        ByteBuffer out =
                ByteBuffer.allocate(Math.toIntExact(dtype.byteSize(n)))
                        .order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            float v = (float) ((random.nextDouble() * 2 - 1) * scale);
            switch (dtype) {
                case F32 -> out.putFloat(v);
                case F16 -> out.putShort(Float.floatToFloat16(v));
                case BF16 -> out.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
                default -> throw new IllegalArgumentException("no random " + dtype);
            }
        }
        return out.array();
    }

    private static byte[] f32(float v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array();
    }
}
