package dev.safeload.lora;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The fields of PEFT's {@code adapter_config.json} that change how an adapter is merged
 * (docs/lora.md §1.2). Parsing is lenient like PEFT's (unknown fields ignored, missing fields take
 * PEFT's defaults), but features that change the tensor layout or cannot be merged are refused.
 *
 * @param peftType {@code LORA}; anything else is refused when parsing
 * @param r default rank
 * @param loraAlpha default alpha
 * @param useRslora scale = alpha / sqrt(r) instead of alpha / r
 * @param rankPattern per-module rank, keys matched with {@link #patternKey}
 * @param alphaPattern per-module alpha, keys matched with {@link #patternKey}
 * @param targetModules null, a list of names (exact or dotted suffix), or one regex (full match);
 *     {@code all-linear} matches every module
 * @param excludeModules same forms as {@code targetModules}
 * @param fanInFanOut base weights stored (in, out), as GPT-2's Conv1D
 * @param bias {@code none}, {@code all} or {@code lora_only}: base biases saved in the adapter
 * @param loraBias lora_B has a bias
 * @param useDora DoRA: {@code lora_magnitude_vector} per module
 * @param modulesToSave modules saved whole in the adapter file
 * @param baseModel {@code base_model_name_or_path}, informational
 */
public record PeftConfig(
        String peftType,
        int r,
        double loraAlpha,
        boolean useRslora,
        Map<String, Integer> rankPattern,
        Map<String, Double> alphaPattern,
        Object targetModules,
        Object excludeModules,
        boolean fanInFanOut,
        String bias,
        boolean loraBias,
        boolean useDora,
        List<String> modulesToSave,
        String baseModel) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public PeftConfig {
        rankPattern = Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern));
        alphaPattern = Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern));
        modulesToSave = List.copyOf(modulesToSave);
    }

    /** PEFT's defaults (r = 8, alpha = 8), used for adapters that come without a config. */
    public static PeftConfig defaults() {
        return new PeftConfig(
                "LORA", 8, 8, false, Map.of(), Map.of(), null, null, false, "none", false, false,
                List.of(), null);
    }

    /** Parses {@code adapter_config.json}; {@code source} names the file in error messages. */
    public static PeftConfig parse(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw LoraException.of(
                    LoraError.InvalidConfig,
                    "%s is not valid JSON: %s",
                    source,
                    e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw LoraException.of(LoraError.InvalidConfig, "%s must hold a JSON object", source);
        }
        String type = text(root, "peft_type", "LORA", source);
        if (!"LORA".equals(type)) {
            throw LoraException.of(
                    LoraError.UnsupportedFormat,
                    "%s: peft_type %s is not supported (only LORA; LoHa, LoKr, IA3, OFT... are"
                            + " different tuners)",
                    source,
                    type);
        }
        refuseIfSet(root, "target_parameters", "LoRA on raw parameters (MoE experts)", source);
        refuseIfSet(
                root,
                "alora_invocation_tokens",
                "activated LoRA (aLoRA), which cannot be merged",
                source);
        refuseIfSet(root, "layer_replication", "layer replication", source);
        refuseIfSet(root, "trainable_token_indices", "trainable token deltas", source);
        if (root.path("use_qalora").asBoolean(false)) {
            throw LoraException.of(
                    LoraError.Unsupported,
                    "%s: use_qalora (quantization-aware LoRA) is not supported",
                    source);
        }
        int r = positiveInt(root.get("r"), 8, source + " r");
        double alpha = number(root.get("lora_alpha"), 8, source + " lora_alpha");
        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : object(root, "rank_pattern", source).entrySet()) {
            ranks.put(
                    checkedPattern(e.getKey(), source),
                    positiveInt(e.getValue(), 0, source + " rank_pattern." + e.getKey()));
        }
        Map<String, Double> alphas = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : object(root, "alpha_pattern", source).entrySet()) {
            alphas.put(
                    checkedPattern(e.getKey(), source),
                    number(e.getValue(), 0, source + " alpha_pattern." + e.getKey()));
        }
        return new PeftConfig(
                type,
                r,
                alpha,
                root.path("use_rslora").asBoolean(false),
                ranks,
                alphas,
                moduleSpec(root, "target_modules", source),
                moduleSpec(root, "exclude_modules", source),
                root.path("fan_in_fan_out").asBoolean(false),
                text(root, "bias", "none", source),
                root.path("lora_bias").asBoolean(false),
                root.path("use_dora").asBoolean(false),
                stringList(root.get("modules_to_save"), source + " modules_to_save"),
                root.path("base_model_name_or_path").isTextual()
                        ? root.get("base_model_name_or_path").asText()
                        : null);
    }

    /**
     * PEFT's {@code get_pattern_key}: the first key {@code k} for which {@code module} matches the
     * regex {@code (.*\.)?(k)$}, or null (docs/lora.md §1.2, peft utils/other.py).
     */
    public static String patternKey(Iterable<String> keys, String module) {
        for (String key : keys) {
            if (Pattern.compile("(.*\\.)?(" + key + ")$").matcher(module).matches()) {
                return key;
            }
        }
        return null;
    }

    /** The configured rank for {@code module} (path without {@code base_model.model.}). */
    public int rankFor(String module) {
        String key = patternKey(rankPattern.keySet(), module);
        return key == null ? r : rankPattern.get(key);
    }

    /** The configured alpha for {@code module}. */
    public double alphaFor(String module) {
        String key = patternKey(alphaPattern.keySet(), module);
        return key == null ? loraAlpha : alphaPattern.get(key);
    }

    /**
     * {@code alpha / rank}, or {@code alpha / sqrt(rank)} with rsLoRA (PEFT layer.py update_layer).
     */
    public double scale(double alpha, int rank) {
        return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    /**
     * Whether {@code module} is a LoRA target by PEFT's {@code check_target_module_exists}: a list
     * matches the exact name or a {@code .name} suffix, a string is a full-match regex, {@code
     * all-linear} or no targets at all match everything; excluded modules never match.
     */
    public boolean targets(String module) {
        if (excludeModules != null && matchesSpec(excludeModules, module)) {
            return false;
        }
        return targetModules == null
                || "all-linear".equals(targetModules)
                || matchesSpec(targetModules, module);
    }

    /** The target modules as text, for {@code lora inspect}. */
    public String targetModulesText() {
        return targetModules == null ? "(not set)" : targetModules.toString();
    }

    private static boolean matchesSpec(Object spec, String module) {
        if (spec instanceof String regex) {
            return Pattern.compile(regex).matcher(module).matches();
        }
        for (Object o : (List<?>) spec) {
            String name = (String) o;
            if (module.equals(name) || module.endsWith("." + name)) {
                return true;
            }
        }
        return false;
    }

    private static Object moduleSpec(JsonNode root, String field, String source) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return checkedRegex(node.asText(), source + " " + field);
        }
        return stringList(node, source + " " + field);
    }

    private static List<String> stringList(JsonNode node, String what) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw LoraException.of(LoraError.InvalidConfig, "%s must be a list of strings", what);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : node) {
            if (!item.isTextual()) {
                throw LoraException.of(
                        LoraError.InvalidConfig,
                        "%s must be a list of strings, found %s",
                        what,
                        item);
            }
            out.add(item.asText());
        }
        return List.copyOf(out);
    }

    private static Map<String, JsonNode> object(JsonNode root, String field, String source) {
        JsonNode node = root.get(field);
        Map<String, JsonNode> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            throw LoraException.of(
                    LoraError.InvalidConfig, "%s %s must be an object", source, field);
        }
        node.properties().forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    private static String text(JsonNode root, String field, String fallback, String source) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isTextual()) {
            throw LoraException.of(
                    LoraError.InvalidConfig,
                    "%s %s must be a string, found %s",
                    source,
                    field,
                    node);
        }
        return node.asText();
    }

    private static int positiveInt(JsonNode node, int fallback, String what) {
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.canConvertToExactIntegral()
                || node.asLong() <= 0
                || node.asLong() > Integer.MAX_VALUE) {
            throw LoraException.of(
                    LoraError.InvalidConfig, "%s must be a positive integer, found %s", what, node);
        }
        return node.asInt();
    }

    private static double number(JsonNode node, double fallback, String what) {
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isNumber() || !Double.isFinite(node.asDouble())) {
            throw LoraException.of(
                    LoraError.InvalidConfig, "%s must be a finite number, found %s", what, node);
        }
        return node.asDouble();
    }

    private static void refuseIfSet(JsonNode root, String field, String feature, String source) {
        JsonNode node = root.get(field);
        boolean set =
                node != null
                        && !node.isNull()
                        && !(node.isContainerNode() && node.isEmpty())
                        && !(node.isBoolean() && !node.asBoolean());
        if (set) {
            throw LoraException.of(
                    LoraError.Unsupported, "%s: %s (%s) is not supported", source, field, feature);
        }
    }

    private static String checkedPattern(String key, String source) {
        return checkedRegex(key, source + " pattern key");
    }

    private static String checkedRegex(String regex, String what) {
        try {
            Pattern.compile(regex);
            return regex;
        } catch (PatternSyntaxException e) {
            throw LoraException.of(
                    LoraError.InvalidConfig,
                    "%s is not a valid regex: %s",
                    what,
                    Objects.requireNonNullElse(e.getDescription(), regex));
        }
    }
}
