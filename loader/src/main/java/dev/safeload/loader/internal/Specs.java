package dev.safeload.loader.internal;

import dev.safeload.loader.LoadedTensor;
import dev.safeload.lora.WeightSpec;

import java.util.List;

/** The placed tensors as the LoRA layer describes base weights. */
public final class Specs {
    private Specs() {}

    /** The spec of one placed tensor: its name, dtype and shape in the model's memory. */
    public static WeightSpec of(LoadedTensor t) {
        return new WeightSpec(t.name(), t.dtype(), t.shape());
    }

    /** The specs of all of them, in order. */
    public static List<WeightSpec> of(List<LoadedTensor> tensors) {
        return tensors.stream().map(Specs::of).toList();
    }
}
