package dev.safeload.loader.internal;

import dev.safeload.Cleanup;
import dev.safeload.loader.Device;
import dev.safeload.loader.LoadedTensor;
import dev.safeload.lora.LoraBackend;
import dev.safeload.lora.WeightBuffer;
import dev.safeload.lora.WeightSpec;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The memory a placed model lives in, and the LoRA backend that works on that memory in place: the
 * one owner of every buffer the placement made. {@link HostPlacement} and {@link CudaPlacement}.
 */
public abstract class Placement implements AutoCloseable {
    private LoraBackend backend;
    private boolean closed;

    /** Where the memory is. */
    public abstract Device device();

    /** The tensors, in memory order. */
    public abstract List<LoadedTensor> tensors();

    /** Bytes copied from the files into this memory, each once. */
    public abstract long bytesCopied();

    /** The tensor's memory as a weight the backend changes in place (the placement keeps it). */
    public abstract WeightBuffer wrap(LoadedTensor tensor, WeightSpec spec);

    /** Waits for queued work on the tensor and copies its bytes into {@code destination}. */
    public abstract void read(LoadedTensor tensor, MemorySegment destination);

    /** Makes the LoRA backend that works on this memory. */
    protected abstract LoraBackend openBackend();

    /** Frees the memory (the backend is closed already). */
    protected abstract void free();

    /** The LoRA backend on this memory, made on first use and closed with the placement. */
    public final synchronized LoraBackend backend() {
        if (closed) {
            throw new IllegalStateException("the model is closed");
        }
        if (backend == null) {
            backend = openBackend();
        }
        return backend;
    }

    /** The LoRA backend if it was made, else null (nothing to wait for). */
    public final synchronized LoraBackend backendIfOpen() {
        return backend;
    }

    /**
     * Closes the backend (after its queued work), then frees the memory; both run even if one
     * fails, and the first failure is thrown. Idempotent.
     */
    @Override
    public final synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        new Cleanup().close(backend).run(this::free).rethrow();
        backend = null;
    }
}
