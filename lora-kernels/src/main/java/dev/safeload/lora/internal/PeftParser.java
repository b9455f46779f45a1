package dev.safeload.lora.internal;

import dev.safeload.lora.AdapterFormat;
import dev.safeload.lora.AdapterTensor;
import dev.safeload.lora.LayerKind;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.LoraError;
import dev.safeload.lora.LoraException;
import dev.safeload.lora.LoraModule;
import dev.safeload.lora.PeftConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads PEFT's key layout (docs/lora.md §1.3): {@code base_model.model.<module>.lora_A.weight},
 * {@code lora_B.weight}, {@code lora_B.bias}, {@code lora_embedding_A/B} and {@code
 * lora_magnitude_vector} (no {@code .weight}), optionally with the adapter-name segment PEFT uses
 * in memory ({@code lora_A.default.weight}); any other {@code .weight}/{@code .bias} is a whole
 * tensor saved through {@code modules_to_save}, {@code bias} or embedding targets (under the
 * wrapper's {@code base_layer}: they replace the base tensor before the delta is added). Diffusers'
 * {@code unet.}/{@code text_encoder.} prefixed keys have the same shape and are accepted too.
 */
public final class PeftParser {
    private static final String PREFIX = "base_model.model.";
    private static final Pattern LORA_KEY =
            Pattern.compile(
                    "^(.+)\\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B|lora_magnitude_vector)(?:\\.([^.]+))??(?:\\.(weight|bias))?$");

    /**
     * The wrapper infix of a whole tensor, dropped to get the base tensor's name: modules_to_save
     * copies ({@code lm_head.modules_to_save.default.weight}, in memory) and the wrapped layer of a
     * LoRA target ({@code lm_head.base_layer.weight}), which peft saves for targeted embeddings
     * ({@code save_embedding_layers}, utils/save_and_load.py) and with {@code bias="all"}.
     */
    private static final Pattern SAVED_MODULE =
            Pattern.compile("\\.(?:modules_to_save\\.[^.]+|base_layer)(?=\\.(weight|bias)$)");

    private PeftParser() {}

    /** Whether {@code keys} look like PEFT/diffusers keys. */
    public static boolean recognises(Iterable<String> keys) {
        for (String key : keys) {
            if (LORA_KEY.matcher(key).matches()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Builds the adapter; {@code config} is null when the adapter came without one (scale = 1
     * then).
     */
    public static LoraAdapter parse(
            Map<String, AdapterTensor> tensors,
            PeftConfig config,
            Map<String, String> metadata,
            String source) {
        Map<String, Map<String, AdapterTensor>> parts = new LinkedHashMap<>();
        Map<String, AdapterTensor> whole = new LinkedHashMap<>();
        TreeSet<String> adapterNames = new TreeSet<>();
        for (Map.Entry<String, AdapterTensor> e : tensors.entrySet()) {
            String key = e.getKey();
            UnsupportedFormats.refuse(key, source);
            String stripped = key.startsWith(PREFIX) ? key.substring(PREFIX.length()) : key;
            Matcher m = LORA_KEY.matcher(stripped);
            if (m.matches()) {
                if (m.group(3) != null) {
                    adapterNames.add(m.group(3));
                }
                String part = m.group(2) + ("bias".equals(m.group(4)) ? ".bias" : "");
                AdapterTensor previous =
                        parts.computeIfAbsent(m.group(1), k -> new LinkedHashMap<>())
                                .put(part, e.getValue());
                if (previous != null) {
                    throw LoraException.of(
                            LoraError.InvalidAdapter,
                            "%s: module %s has %s twice",
                            source,
                            m.group(1),
                            part);
                }
            } else if (stripped.endsWith(".weight") || stripped.endsWith(".bias")) {
                whole.put(SAVED_MODULE.matcher(stripped).replaceFirst(""), e.getValue());
            } else {
                throw LoraException.of(
                        LoraError.InvalidAdapter,
                        "%s: key %s is neither a LoRA tensor nor a saved module weight",
                        source,
                        key);
            }
        }
        if (adapterNames.size() > 1) {
            throw LoraException.of(
                    LoraError.InvalidAdapter,
                    "%s holds several adapters %s; save them in separate folders as PEFT does",
                    source,
                    adapterNames);
        }
        PeftConfig effective = config != null ? config : PeftConfig.defaults();
        List<LoraModule> modules = new ArrayList<>();
        for (Map.Entry<String, Map<String, AdapterTensor>> e : parts.entrySet()) {
            modules.add(module(e.getKey(), e.getValue(), config, effective, source));
        }
        if (modules.isEmpty()) {
            throw LoraException.of(LoraError.InvalidAdapter, "%s holds no LoRA tensors", source);
        }
        return new LoraAdapter(source, AdapterFormat.PEFT, config, modules, whole, metadata);
    }

    private static LoraModule module(
            String name,
            Map<String, AdapterTensor> parts,
            PeftConfig config,
            PeftConfig effective,
            String source) {
        boolean embedding =
                parts.containsKey("lora_embedding_A") || parts.containsKey("lora_embedding_B");
        AdapterTensor a = parts.get(embedding ? "lora_embedding_A" : "lora_A");
        AdapterTensor b = parts.get(embedding ? "lora_embedding_B" : "lora_B");
        if (a == null || b == null) {
            throw LoraException.of(
                    LoraError.InvalidAdapter,
                    "%s: module %s has %s but not %s",
                    source,
                    name,
                    a == null ? "B" : "A",
                    a == null ? "A" : "B");
        }
        if (a.rank() < 2 || a.dim(0) == 0) {
            throw LoraException.of(
                    LoraError.InvalidAdapter,
                    "%s: module %s: A has shape %s, expected (r, in...)",
                    source,
                    name,
                    a.shapeText());
        }
        LayerKind kind =
                embedding ? LayerKind.EMBEDDING : a.rank() > 2 ? LayerKind.CONV : LayerKind.LINEAR;
        int rank = Math.toIntExact(a.dim(0));
        checkUp(name, kind, rank, a, b, source);
        if (config != null) {
            int configured = config.rankFor(name);
            if (configured != rank) {
                throw LoraException.of(
                        LoraError.InvalidConfig,
                        "%s: module %s has rank %d in its tensors (A %s) but the config says %d (r"
                                + " / rank_pattern)",
                        source,
                        name,
                        rank,
                        a.shapeText(),
                        configured);
            }
            if (!config.targets(name)) {
                throw LoraException.of(
                        LoraError.InvalidConfig,
                        "%s: module %s has LoRA tensors but is not among target_modules %s",
                        source,
                        name,
                        config.targetModulesText());
            }
        }
        // Without a config PEFT-shaped files (diffusers) mean alpha = rank, i.e. scale 1
        // (docs/lora.md
        // §2.4).
        double alpha = config != null ? config.alphaFor(name) : rank;
        double scale = effective.scale(alpha, rank);
        AdapterTensor magnitude = parts.get("lora_magnitude_vector");
        AdapterTensor upBias = parts.get("lora_B.bias");
        long out = b.dim(0);
        if (magnitude != null) {
            // embeddings too: peft's DoraEmbeddingLayer norms the columns of W (num, dim), one per
            // embedding feature, the layout a transposed module merges in (lora/dora.py,
            // variants.py)
            checkVector(name, "lora_magnitude_vector", magnitude, out, source);
        } else if (config != null && config.useDora()) {
            throw LoraException.of(
                    LoraError.InvalidAdapter,
                    "%s: config has use_dora but module %s has no lora_magnitude_vector",
                    source,
                    name);
        }
        if (upBias != null) {
            checkVector(name, "lora_B.bias", upBias, out, source);
        }
        boolean transposed =
                kind == LayerKind.EMBEDDING
                        || (kind == LayerKind.LINEAR && effective.fanInFanOut());
        return new LoraModule(name, kind, rank, alpha, scale, transposed, a, b, magnitude, upBias);
    }

    /** B must be (out, r) — (out, r, 1, ...) for conv; for embeddings B is (dim, r). */
    static void checkUp(
            String name,
            LayerKind kind,
            int rank,
            AdapterTensor a,
            AdapterTensor b,
            String source) {
        boolean ok =
                b.rank() >= 2
                        && b.dim(1) == rank
                        && b.trailing(2) == 1
                        && (kind == LayerKind.CONV ? b.rank() == a.rank() : b.rank() == 2);
        if (!ok) {
            throw LoraException.of(
                    LoraError.ShapeMismatch,
                    "%s: module %s: B has shape %s, which does not fit A %s (expected (out, %d%s))",
                    source,
                    name,
                    b.shapeText(),
                    a.shapeText(),
                    rank,
                    kind == LayerKind.CONV ? ", 1, 1" : "");
        }
    }

    private static void checkVector(
            String name, String what, AdapterTensor t, long out, String source) {
        if (t.values().length != out) {
            throw LoraException.of(
                    LoraError.ShapeMismatch,
                    "%s: module %s: %s has shape %s, expected %d elements (out)",
                    source,
                    name,
                    what,
                    t.shapeText(),
                    out);
        }
    }
}
