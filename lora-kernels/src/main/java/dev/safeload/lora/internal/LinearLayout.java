package dev.safeload.lora.internal;

import dev.safeload.lora.LayerKind;
import dev.safeload.lora.LoraModule;
import dev.safeload.lora.WeightSpec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether each PEFT linear module's base weight is stored (out, in) like {@code nn.Linear} or (in,
 * out) like transformers' {@code Conv1D}.
 *
 * <p>peft does not apply a saved {@code fan_in_fan_out} as written: when it wraps a layer it forces
 * the flag by layer type (lora/layer.py {@code dispatch_default}: false for {@code nn.Linear}, true
 * for {@code Conv1D}, with a warning) and saves the config as the last wrapped layer left it. So an
 * adapter over both kinds ({@code all-linear} on GPT2ForSequenceClassification: Conv1D blocks and
 * the Linear {@code score} head) carries a flag that is wrong for some of its modules. The base
 * weight's shape tells the kind whenever in ≠ out; a square module follows the non-square modules
 * with the same leaf name ({@code attn.c_proj} as {@code mlp.c_proj}), and only without that
 * evidence the saved flag.
 */
public final class LinearLayout {
    private LinearLayout() {}

    /**
     * {@code modules} with their layout fitted to {@code weights} (same order); others unchanged.
     */
    public static List<LoraModule> fit(List<LoraModule> modules, List<WeightSpec> weights) {
        Map<String, Boolean> byLeaf = new HashMap<>();
        Boolean[] decided = new Boolean[modules.size()];
        for (int i = 0; i < modules.size(); i++) {
            decided[i] = fromShape(modules.get(i), weights.get(i));
            if (decided[i] != null) {
                // a leaf name seen with both layouts gives no evidence: mark it with null
                byLeaf.merge(
                        leaf(modules.get(i).name()), decided[i], (a, b) -> a.equals(b) ? a : null);
            }
        }
        List<LoraModule> out = new ArrayList<>(modules.size());
        for (int i = 0; i < modules.size(); i++) {
            LoraModule m = modules.get(i);
            Boolean transposed =
                    decided[i] != null
                            ? decided[i]
                            : m.kind() == LayerKind.LINEAR ? byLeaf.get(leaf(m.name())) : null;
            out.add(transposed == null ? m : m.withTransposed(transposed));
        }
        return out;
    }

    /** True for (in, out), false for (out, in), null when the shape cannot tell or does not fit. */
    private static Boolean fromShape(LoraModule m, WeightSpec weight) {
        long out = m.outFeatures();
        long in = m.inFeatures();
        long[] shape = weight.shape();
        if (m.kind() != LayerKind.LINEAR || in == out || shape.length != 2) {
            return null;
        }
        if (shape[0] == out && shape[1] == in) {
            return false;
        }
        return shape[0] == in && shape[1] == out ? true : null;
    }

    private static String leaf(String name) {
        return name.substring(name.lastIndexOf('.') + 1);
    }
}
