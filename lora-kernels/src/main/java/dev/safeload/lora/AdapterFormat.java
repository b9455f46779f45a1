package dev.safeload.lora;

/** The on-disk layout an adapter came in. */
public enum AdapterFormat {
    /**
     * huggingface/peft: adapter_config.json + adapter_model.safetensors, lora_A/lora_B keys
     * (docs/lora.md §1.3).
     */
    PEFT,
    /**
     * kohya-ss sd-scripts / lora-scripts: lora_unet_* / lora_te*_* with lora_down/lora_up/alpha
     * (docs/lora.md §2.1).
     */
    KOHYA,
}
