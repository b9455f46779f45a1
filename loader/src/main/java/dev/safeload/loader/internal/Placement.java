package dev.safeload.loader.internal;

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
public interface Placement extends AutoCloseable {
    /** Where the memory is. */
    Device device();

    /** The tensors, in memory order. */
    List<LoadedTensor> tensors();

    /** Bytes copied from the files into this memory, each once. */
    long bytesCopied();

    /** The LoRA backend on this memory, made on first use and closed with the placement. */
    LoraBackend backend();

    /** The LoRA backend if it was made, else null (nothing to wait for). */
    LoraBackend backendIfOpen();

    /** The tensor's memory as a weight the backend changes in place (the placement keeps it). */
    WeightBuffer wrap(LoadedTensor tensor, WeightSpec spec);

    /** Waits for queued work on the tensor and copies its bytes into {@code destination}. */
    void read(LoadedTensor tensor, MemorySegment destination);

    /** Frees everything, the backend's buffers first; the first failure is thrown. */
    @Override
    void close();
}
