package dev.safeload.lora;

/**
 * A base tensor held by a {@link LoraBackend}: host memory for the CPU backend, device memory for
 * CUDA. Closing it frees what the backend allocated; wrapped caller memory stays the caller's.
 */
public interface WeightBuffer extends AutoCloseable {
    /** The tensor this buffer holds. */
    WeightSpec spec();

    /** Its element type. */
    default Precision precision() {
        return Precision.of(spec().dtype(), "tensor " + spec().name());
    }

    /** Its size in bytes. */
    default long byteSize() {
        return spec().elementCount() * precision().byteSize();
    }

    @Override
    void close();
}
