/**
 * The library's entry point: a model by repo id and revision (through the hub cache) or by local
 * folder, index or file, opened and validated, placed on the CPU or a CUDA device as one {@link
 * dev.safeload.loader.LoadedModel} that owns every buffer it made, with LoRA adapters merged into
 * it in place or served unmerged from its weights. Start at {@link
 * dev.safeload.loader.ModelLoader}.
 */
package dev.safeload.loader;
