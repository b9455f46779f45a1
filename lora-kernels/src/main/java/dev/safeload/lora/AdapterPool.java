package dev.safeload.lora;

import java.util.List;

/**
 * Adapters resident in a backend's memory for serving without merging: the base weights stay as
 * they are and each batch row gets its own adapter's delta, {@code y += s · (x·Aᵀ)·Bᵀ}, added
 * segment by segment (Punica/S-LoRA style, docs/lora.md §3).
 *
 * <p>The pool holds at most {@link #capacityBytes()} of adapter factors. Loading past that evicts
 * the least recently used adapters (used = loaded or applied); an adapter larger than the whole
 * pool is refused. Adapters of different ranks live side by side. Only linear modules (including
 * {@code fan_in_fan_out}) serve this way; DoRA needs the base weight's norms and is refused at
 * load.
 *
 * <p>Not thread-safe: one serving thread owns a pool, as one stream owns its kernels.
 */
public interface AdapterPool extends AutoCloseable {
    /**
     * Binds {@code adapter} to the pool's base model and makes it resident under {@code id}
     * (replacing one with that id).
     */
    void load(String id, LoraAdapter adapter);

    /** Frees adapter {@code id}; false if it was not loaded. */
    boolean unload(String id);

    /** The resident adapter ids, least recently used first. */
    List<String> loaded();

    /** Bytes of adapter factors resident now. */
    long usedBytes();

    /** The most bytes this pool holds before it evicts. */
    long capacityBytes();

    /**
     * For each segment, adds {@code segment.scale · s_module · (x·Aᵀ)·Bᵀ} of the segment's adapter
     * for base weight {@code weightName} to the segment's rows of {@code y}, in fp32, rounding once
     * per element. Segments whose adapter does not adapt this weight add nothing.
     *
     * @param x tokens × in
     * @param y tokens × out, updated in place
     */
    void apply(String weightName, Activations x, Activations y, List<Segment> segments);

    @Override
    void close();
}
