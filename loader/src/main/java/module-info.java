/**
 * The library's entry point: a model from the hub cache or a folder, placed on the CPU or a CUDA
 * device as one object, with LoRA adapters on it. Only {@code dev.safeload.loader} is exported.
 */
module dev.safeload.loader {
    requires transitive dev.safeload.safetensors;
    requires transitive dev.safeload.cache;
    requires transitive dev.safeload.cuda;
    requires transitive dev.safeload.lora;
    requires transitive jcuda;

    exports dev.safeload.loader;
}
