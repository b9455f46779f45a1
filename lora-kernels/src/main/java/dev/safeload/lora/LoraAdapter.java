package dev.safeload.lora;

import dev.safeload.lora.internal.KohyaParser;
import dev.safeload.lora.internal.PeftParser;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A LoRA adapter read into memory: its modules (A, B and scale for each adapted layer) and any
 * whole tensors it replaces. Nothing here knows the base model yet; {@link MergePlan} and {@link
 * AdapterPool} bind the modules to base weights and report misfits.
 *
 * @param source where it came from, for messages
 * @param format PEFT or kohya
 * @param config the PEFT config, or null (kohya, or a PEFT-shaped file without one)
 * @param modules the adapted layers, in file order
 * @param wholeTensors base tensors saved whole ({@code modules_to_save}, biases), by base tensor
 *     name
 * @param metadata the safetensors {@code __metadata__}
 */
public record LoraAdapter(
        String source,
        AdapterFormat format,
        PeftConfig config,
        List<LoraModule> modules,
        Map<String, AdapterTensor> wholeTensors,
        Map<String, String> metadata) {

    public LoraAdapter {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(format, "format");
        modules = List.copyOf(modules);
        wholeTensors = Collections.unmodifiableMap(new LinkedHashMap<>(wholeTensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /**
     * Reads an adapter: a PEFT folder (adapter_config.json + adapter_model.safetensors), a folder
     * with a single {@code .safetensors} file, or a {@code .safetensors} file (kohya, diffusers).
     */
    public static LoraAdapter read(java.nio.file.Path path) {
        return dev.safeload.lora.internal.AdapterFiles.read(path);
    }

    /**
     * Builds an adapter from its tensors, detecting the layout from the keys.
     *
     * @param configJson the text of adapter_config.json, or null
     */
    public static LoraAdapter fromTensors(
            Map<String, AdapterTensor> tensors,
            String configJson,
            Map<String, String> metadata,
            String source) {
        if (tensors.isEmpty()) {
            throw LoraException.of(LoraError.InvalidAdapter, "%s holds no tensors", source);
        }
        PeftConfig config =
                configJson == null
                        ? null
                        : PeftConfig.parse(configJson, source + " adapter_config.json");
        if (config == null && metadata.containsKey("lora_adapter_metadata")) {
            // diffusers stores the LoraConfig as JSON in the safetensors metadata (docs/lora.md
            // §2.4).
            config =
                    PeftConfig.parse(
                            metadata.get("lora_adapter_metadata"),
                            source + " lora_adapter_metadata");
        }
        if (config == null && KohyaParser.recognises(tensors.keySet())) {
            return KohyaParser.parse(tensors, metadata, source);
        }
        if (PeftParser.recognises(tensors.keySet()) || config != null) {
            return PeftParser.parse(tensors, config, metadata, source);
        }
        for (String key : tensors.keySet()) {
            dev.safeload.lora.internal.UnsupportedFormats.refuse(key, source);
        }
        throw LoraException.of(
                LoraError.InvalidAdapter,
                "%s is not a LoRA adapter: no lora_A/lora_B (PEFT) or lora_down/lora_up (kohya)"
                        + " keys, first key %s",
                source,
                tensors.keySet().iterator().next());
    }

    /** The distinct ranks of the modules. */
    public SortedSet<Integer> ranks() {
        TreeSet<Integer> ranks = new TreeSet<>();
        modules.forEach(m -> ranks.add(m.rank()));
        return ranks;
    }

    /** The distinct alphas of the modules. */
    public SortedSet<Double> alphas() {
        TreeSet<Double> alphas = new TreeSet<>();
        modules.forEach(m -> alphas.add(m.alpha()));
        return alphas;
    }

    /** The distinct scales of the modules. */
    public SortedSet<Double> scales() {
        TreeSet<Double> scales = new TreeSet<>();
        modules.forEach(m -> scales.add(m.scale()));
        return scales;
    }

    /** The module by name, or null. */
    public LoraModule module(String name) {
        for (LoraModule m : modules) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        return null;
    }
}
