package dev.safeload.loader;

/** How a merge is taken out again, chosen when merging. */
public enum Unmerge {
    /**
     * Keep a copy of every tensor the merge changes, on the model's device, and restore it: the
     * weights come back bit for bit. Costs the memory of the changed tensors while merged.
     */
    EXACT,
    /**
     * Keep nothing and subtract the deltas: no extra memory, but F16/BF16 weights may differ from
     * the originals in the last place after {@code round(round(W + Δ) − Δ)} (docs/lora.md §1.6),
     * and DoRA adapters cannot be taken out. Tensors replaced by {@code modules_to_save} are always
     * kept and restored exactly.
     */
    SUBTRACT
}
