package dev.safeload.lora.internal;

import dev.safeload.lora.AdapterFormat;
import dev.safeload.lora.LoraError;
import dev.safeload.lora.LoraException;
import dev.safeload.lora.LoraModule;
import dev.safeload.lora.WeightSpec;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the base weight an adapter module targets, from the base model's own tensor names.
 *
 * <p>PEFT names are module paths: {@code <module>.weight} is tried first; otherwise a base module
 * whose path and the adapter's differ only by leading components (GPT-2 files lack the {@code
 * transformer.} of the model class, diffusers adds {@code unet.}) is accepted when it is the only
 * one. An {@code lm_head} absent from a base with tied embeddings is its input embedding.
 *
 * <p>kohya names replace every {@code .} with {@code _}, which cannot be undone by parsing (module
 * names contain {@code _}; docs/lora.md §2.1). So the map goes the other way: every base module
 * path, and every dotted suffix of it (a full SD checkpoint prefixes the UNet with {@code
 * model.diffusion_model.}), is converted to kohya form, and the adapter's name minus its {@code
 * lora_unet_}/{@code lora_te1_}... prefix is looked up. Two base modules with the same kohya form
 * are reported, not guessed between.
 */
public final class ModuleResolver {
    private final Map<String, WeightSpec> byName = new LinkedHashMap<>();
    private final List<String> modulePaths = new ArrayList<>();

    /**
     * Input embeddings in transformers models: Llama/Mistral/Qwen/Gemma, GPT-2, BERT/BLOOM/Falcon,
     * GPT-NeoX, T5.
     */
    private static final Set<String> TIED_EMBEDDING_NAMES =
            Set.of("embed_tokens", "wte", "word_embeddings", "embed_in", "shared");

    private Map<String, Set<String>> kohyaNames;

    public ModuleResolver(Collection<WeightSpec> base) {
        for (WeightSpec spec : base) {
            byName.put(spec.name(), spec);
            if (spec.name().endsWith(".weight")) {
                modulePaths.add(
                        spec.name().substring(0, spec.name().length() - ".weight".length()));
            }
        }
    }

    /** The base tensor called {@code name}, or null. */
    public WeightSpec tensor(String name) {
        return byName.get(name);
    }

    /** The base weight of {@code module}; {@code adapter} names the adapter in errors. */
    public WeightSpec weightOf(LoraModule module, AdapterFormat format, String adapter) {
        String path =
                format == AdapterFormat.KOHYA
                        ? kohyaModule(module.name(), adapter)
                        : peftModule(module.name(), adapter);
        return byName.get(path + ".weight");
    }

    /** The base module path (without {@code .weight}) of a PEFT module name. */
    public String peftModule(String name, String adapter) {
        if (byName.containsKey(name + ".weight")) {
            return name;
        }
        List<String> candidates = new ArrayList<>();
        for (String path : modulePaths) {
            if (name.endsWith("." + path) || path.endsWith("." + name)) {
                candidates.add(path);
            }
        }
        if (candidates.isEmpty() && leaf(name).equals("lm_head")) {
            candidates = tiedInputEmbedding();
        }
        return single(name, candidates, adapter);
    }

    /**
     * With {@code tie_word_embeddings} transformers saves the shared tensor once, under the input
     * embedding's name, and peft merges an {@code lm_head} LoRA into that shared tensor (both are
     * (vocab, hidden)): so a base without {@code lm_head.weight} takes it on its input embedding,
     * found by the names transformers models give it, when there is exactly one.
     */
    private List<String> tiedInputEmbedding() {
        List<String> found = new ArrayList<>();
        for (String path : modulePaths) {
            if (TIED_EMBEDDING_NAMES.contains(leaf(path))) {
                found.add(path);
            }
        }
        return found;
    }

    private static String leaf(String path) {
        return path.substring(path.lastIndexOf('.') + 1);
    }

    /** The base module path of a kohya {@code lora_unet_...} name. */
    public String kohyaModule(String name, String adapter) {
        if (kohyaNames == null) {
            kohyaNames = new HashMap<>();
            for (String path : modulePaths) {
                String suffix = path;
                while (true) {
                    kohyaNames
                            .computeIfAbsent(suffix.replace('.', '_'), k -> new LinkedHashSet<>())
                            .add(path);
                    int dot = suffix.indexOf('.');
                    if (dot < 0) {
                        break;
                    }
                    suffix = suffix.substring(dot + 1);
                }
            }
        }
        String stripped = name.replaceFirst("^lora_[a-z]+\\d*_", "");
        return single(name, new ArrayList<>(kohyaNames.getOrDefault(stripped, Set.of())), adapter);
    }

    private String single(String name, List<String> candidates, String adapter) {
        if (candidates.size() == 1) {
            return candidates.getFirst();
        }
        if (candidates.isEmpty()) {
            throw LoraException.of(
                    LoraError.MissingModule,
                    "%s: module %s has no weight in the base model (%d weights looked at)",
                    adapter,
                    name,
                    modulePaths.size());
        }
        throw LoraException.of(
                LoraError.MissingModule,
                "%s: module %s matches several base modules %s; pass a base file holding only the"
                        + " component it adapts",
                adapter,
                name,
                candidates);
    }
}
