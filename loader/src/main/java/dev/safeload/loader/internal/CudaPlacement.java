package dev.safeload.loader.internal;

import dev.safeload.Cleanup;
import dev.safeload.cuda.CudaContext;
import dev.safeload.cuda.DeviceModel;
import dev.safeload.cuda.DeviceTensor;
import dev.safeload.cuda.ModelUploader;
import dev.safeload.loader.CudaTensor;
import dev.safeload.loader.Device;
import dev.safeload.loader.LoadListener;
import dev.safeload.loader.LoadStage;
import dev.safeload.loader.LoadedTensor;
import dev.safeload.lora.CudaLoraBackend;
import dev.safeload.lora.LoraBackend;
import dev.safeload.lora.WeightBuffer;
import dev.safeload.lora.WeightSpec;
import dev.safeload.safetensors.SafetensorsModel;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A model placed on a CUDA device: the device's primary context (retained for the model's life),
 * the one arena the upload pipeline filled ({@link ModelUploader}: pinned bounce buffers, each byte
 * copied from the file once), and the CUDA LoRA backend in that context, whose stream is the
 * model's stream: merges are {@code cublasGemmEx} calls queued on it over the arena's tensors.
 */
public final class CudaPlacement extends Placement {
    private final Device device;
    private final CudaContext context;
    private final DeviceModel weights;
    private final List<LoadedTensor> tensors;

    private CudaPlacement(Device device, CudaContext context, DeviceModel weights) {
        this.device = device;
        this.context = context;
        this.weights = weights;
        List<LoadedTensor> list = new ArrayList<>();
        for (DeviceTensor t : weights.tensors()) {
            list.add(new CudaTensor(t.name(), t.dtype(), t.shape(), t.buffer()));
        }
        this.tensors = List.copyOf(list);
    }

    /**
     * Uploads every tensor {@code uploader} selects to device {@code device}; on failure nothing
     * stays allocated and the context is released.
     */
    public static CudaPlacement place(
            SafetensorsModel model, Device device, ModelUploader uploader, LoadListener listener) {
        CudaContext context = CudaContext.open(device.ordinal());
        try {
            DeviceModel weights =
                    uploader.upload(context, model, n -> listener.progress(LoadStage.PLACE, n));
            return new CudaPlacement(device, context, weights);
        } catch (RuntimeException | Error e) {
            new Cleanup(e).close(context).rethrow();
            throw e;
        }
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public List<LoadedTensor> tensors() {
        return tensors;
    }

    @Override
    public long bytesCopied() {
        return weights.report().bytesRead();
    }

    /** The context the model's memory belongs to. */
    public CudaContext context() {
        return context;
    }

    @Override
    protected LoraBackend openBackend() {
        return CudaLoraBackend.in(context);
    }

    @Override
    public WeightBuffer wrap(LoadedTensor tensor, WeightSpec spec) {
        CudaLoraBackend cuda = (CudaLoraBackend) backend();
        return cuda.wrap(spec, ((CudaTensor) tensor).buffer());
    }

    @Override
    public void read(LoadedTensor tensor, MemorySegment destination) {
        LoraBackend b = backendIfOpen();
        if (b != null) {
            b.synchronize();
        }
        ((CudaTensor) tensor).buffer().copyToHost(0, destination);
    }

    /** Frees the arena, then releases the context (the backend, in it, is closed already). */
    @Override
    protected void free() {
        new Cleanup().close(weights, context).rethrow();
    }
}
