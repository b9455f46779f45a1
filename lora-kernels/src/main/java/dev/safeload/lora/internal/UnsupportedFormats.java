package dev.safeload.lora.internal;

import dev.safeload.lora.LoraError;
import dev.safeload.lora.LoraException;

import java.util.List;

/**
 * Key fragments of adapter families that are not {@code B·A} products, so that refusing them can
 * name the family (docs/lora.md §2.3: LyCORIS LoHa/LoKr/Tucker; PEFT's other tuners).
 */
public final class UnsupportedFormats {
    private record Marker(String fragment, String family) {}

    private static final List<Marker> MARKERS =
            List.of(
                    new Marker("hada_", "LoHa (LyCORIS Hadamard product)"),
                    new Marker("lokr_", "LoKr (LyCORIS Kronecker product)"),
                    new Marker("lora_mid", "LoCon with Tucker decomposition (LyCORIS lora_mid)"),
                    new Marker("dora_scale", "LyCORIS DoRA (dora_scale)"),
                    new Marker("ia3_l", "IA3"),
                    new Marker("oft_", "OFT/BOFT"),
                    new Marker("vera_lambda", "VeRA"),
                    new Marker("glora_", "GLoRA"),
                    new Marker("boft_", "BOFT"),
                    new Marker("diff", "LyCORIS full weight difference"));

    private UnsupportedFormats() {}

    /**
     * Throws {@link LoraError#UnsupportedFormat} naming the family if {@code key} belongs to one.
     */
    public static void refuse(String key, String source) {
        // Compare whole dot-separated segments: module paths may contain the fragments
        // ("diffusion_model").
        for (String segment : key.split("\\.")) {
            for (Marker m : MARKERS) {
                if (segment.startsWith(m.fragment())
                        && (!m.fragment().equals("diff") || segment.matches("diff(_b)?"))) {
                    throw LoraException.of(
                            LoraError.UnsupportedFormat,
                            "%s: %s adapters are not supported (key %s); only LoRA (B·A) adapters"
                                    + " in PEFT or kohya layout are",
                            source,
                            m.family(),
                            key);
                }
            }
        }
    }
}
