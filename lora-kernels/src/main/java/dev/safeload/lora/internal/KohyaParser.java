package dev.safeload.lora.internal;

import dev.safeload.lora.AdapterFormat;
import dev.safeload.lora.AdapterTensor;
import dev.safeload.lora.LayerKind;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.LoraError;
import dev.safeload.lora.LoraException;
import dev.safeload.lora.LoraModule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads kohya-ss sd-scripts / lora-scripts adapters (docs/lora.md §2.1): per module {@code
 * <lora_name>.lora_down.weight} (r, in[, kh, kw]), {@code .lora_up.weight} (out, r[, 1, 1]) and an
 * optional 0-d {@code .alpha}; a missing or zero alpha means alpha = r ("support old LoRA without
 * alpha", sd-scripts networks/lora.py). Module names stay in kohya form here; they are matched
 * against the base model's names when binding ({@link ModuleResolver}).
 */
public final class KohyaParser {
    private static final Pattern KEY =
            Pattern.compile(
                    "^(lora_[a-z]+\\d*_[^.]+)\\.(lora_down\\.weight|lora_up\\.weight|alpha)$");

    private KohyaParser() {}

    /** Whether {@code keys} look like kohya keys. */
    public static boolean recognises(Iterable<String> keys) {
        for (String key : keys) {
            if (KEY.matcher(key).matches()) {
                return true;
            }
        }
        return false;
    }

    public static LoraAdapter parse(
            Map<String, AdapterTensor> tensors, Map<String, String> metadata, String source) {
        Map<String, Map<String, AdapterTensor>> parts = new LinkedHashMap<>();
        for (Map.Entry<String, AdapterTensor> e : tensors.entrySet()) {
            UnsupportedFormats.refuse(e.getKey(), source);
            Matcher m = KEY.matcher(e.getKey());
            if (!m.matches()) {
                throw LoraException.of(
                        LoraError.InvalidAdapter,
                        "%s: key %s is not a kohya LoRA key (<lora_name>.lora_down.weight,"
                                + " .lora_up.weight, .alpha)",
                        source,
                        e.getKey());
            }
            parts.computeIfAbsent(m.group(1), k -> new LinkedHashMap<>())
                    .put(m.group(2), e.getValue());
        }
        List<LoraModule> modules = new ArrayList<>();
        for (Map.Entry<String, Map<String, AdapterTensor>> e : parts.entrySet()) {
            modules.add(module(e.getKey(), e.getValue(), source));
        }
        return new LoraAdapter(source, AdapterFormat.KOHYA, null, modules, Map.of(), metadata);
    }

    private static LoraModule module(String name, Map<String, AdapterTensor> parts, String source) {
        AdapterTensor down = parts.get("lora_down.weight");
        AdapterTensor up = parts.get("lora_up.weight");
        if (down == null || up == null) {
            throw LoraException.of(
                    LoraError.InvalidAdapter,
                    "%s: module %s has %s but not %s",
                    source,
                    name,
                    down == null ? "lora_up" : "lora_down",
                    down == null ? "lora_down" : "lora_up");
        }
        if (down.rank() < 2 || down.dim(0) == 0) {
            throw LoraException.of(
                    LoraError.InvalidAdapter,
                    "%s: module %s: lora_down has shape %s, expected (r, in...)",
                    source,
                    name,
                    down.shapeText());
        }
        LayerKind kind = down.rank() > 2 ? LayerKind.CONV : LayerKind.LINEAR;
        int rank = Math.toIntExact(down.dim(0));
        PeftParser.checkUp(name, kind, rank, down, up, source);
        double alpha = rank;
        AdapterTensor alphaTensor = parts.get("alpha");
        if (alphaTensor != null) {
            if (alphaTensor.values().length != 1) {
                throw LoraException.of(
                        LoraError.InvalidAdapter,
                        "%s: module %s: alpha has shape %s, expected a scalar",
                        source,
                        name,
                        alphaTensor.shapeText());
            }
            float value = alphaTensor.values()[0];
            if (!Float.isFinite(value)) {
                throw LoraException.of(
                        LoraError.InvalidAdapter,
                        "%s: module %s: alpha is %s",
                        source,
                        name,
                        value);
            }
            alpha = value == 0 ? rank : value;
        }
        return new LoraModule(name, kind, rank, alpha, alpha / rank, false, down, up, null, null);
    }
}
