package dev.safeload.loader;

import dev.safeload.Cleanup;
import dev.safeload.cuda.CudaStream;
import dev.safeload.loader.internal.CudaPlacement;
import dev.safeload.loader.internal.ModelSaver;
import dev.safeload.loader.internal.Placement;
import dev.safeload.loader.internal.SourceLayout;
import dev.safeload.loader.internal.Specs;
import dev.safeload.lora.CudaLoraBackend;
import dev.safeload.lora.LoraBackend;
import dev.safeload.lora.WeightSpec;
import dev.safeload.safetensors.SafetensorsError;
import dev.safeload.safetensors.SafetensorsException;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model placed on a device: the one object that owns every buffer the load made (the memory of
 * its tensors, the LoRA backend working on it, kept copies, adapter pools), made by {@link
 * ModelLoader#load}. Closing it frees everything; CUDA resources left open would show in {@link
 * dev.safeload.cuda.LeakDetector}.
 *
 * {@snippet :
 * ModelLoader loader = ModelLoader.builder().device(Device.cuda(0)).build();
 * try (LoadedModel model = loader.load("org/model")) {
 *     model.adapters().merge(loader.readAdapter("org/model-lora"));
 *     CudaTensor q = (CudaTensor) model.tensor("model.layers.0.self_attn.q_proj.weight");
 *     model.synchronize();                 // the merge was queued on the model's stream
 *     CUdeviceptr forJCuda = q.pointer();
 * }
 * }
 *
 * <p>Tensors may be read from any thread while the model is open; adapter changes go through {@link
 * #adapters()}, one thread at a time.
 */
public final class LoadedModel implements AutoCloseable {
    private final Placement placement;
    private final Map<String, LoadedTensor> tensors;
    private final SourceLayout layout;
    private final LoadReport report;
    private final ModelAdapters adapters;
    private boolean closed;

    LoadedModel(Placement placement, SourceLayout layout, LoadReport report) {
        this.placement = placement;
        Map<String, LoadedTensor> byName = new LinkedHashMap<>();
        for (LoadedTensor t : placement.tensors()) {
            byName.put(t.name(), t);
        }
        this.tensors = Collections.unmodifiableMap(byName);
        this.layout = layout;
        this.report = report;
        this.adapters = new ModelAdapters(placement, tensors);
    }

    /**
     * Where the model is.
     *
     * @return {@code cpu} or {@code cuda:N}
     */
    public Device device() {
        return placement.device();
    }

    /**
     * What the load did: the source, the stages' times and bytes, the bytes copied.
     *
     * @return the report
     */
    public LoadReport report() {
        return report;
    }

    /**
     * The tensors, in memory order.
     *
     * @return every placed tensor
     */
    public List<LoadedTensor> tensors() {
        return placement.tensors();
    }

    /**
     * One tensor.
     *
     * @param name its name in the model's files
     * @return the tensor, a {@link HostTensor} or a {@link CudaTensor}
     * @throws SafetensorsException {@link SafetensorsError#TensorNotFound} for a name the model
     *     lacks
     */
    public LoadedTensor tensor(String name) {
        LoadedTensor t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(
                    SafetensorsError.TensorNotFound,
                    "the model has no tensor '" + name + "' (" + tensors.size() + " tensors)");
        }
        return t;
    }

    /**
     * Whether the model has a tensor of this name.
     *
     * @param name the tensor's name
     * @return true if it was placed
     */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The tensors as the LoRA layer describes base weights (name, dtype, shape in memory).
     *
     * @return one spec per tensor, in memory order
     */
    public List<WeightSpec> weightSpecs() {
        return Specs.of(placement.tensors());
    }

    /**
     * The model's adapters: merge, unmerge, switch, serve unmerged.
     *
     * @return the adapters of this model
     */
    public ModelAdapters adapters() {
        return adapters;
    }

    /**
     * Waits for queued work on the tensor (merges on CUDA) and copies its bytes to {@code
     * destination}.
     *
     * @param name the tensor's name
     * @param destination at least as large as the tensor; any segment (heap or native)
     */
    public void read(String name, MemorySegment destination) {
        LoadedTensor t = tensor(name);
        placement.read(t, destination.asSlice(0, t.byteSize()));
    }

    /**
     * Writes the tensors as they are now (after the adapters) as safetensors, in the shape of the
     * source: a single-file model to the file {@code out}; a sharded one to the folder {@code out}
     * with the same shard names, metadata and index. On the CPU the files equal those {@code
     * safeload lora merge} writes for the same model and adapters.
     *
     * @param out the file or folder to write
     * @return the files written
     */
    public List<Path> save(Path out) {
        synchronize();
        return ModelSaver.save(layout, tensors, placement, out);
    }

    /** Waits until the work queued on the model (merges on CUDA) has finished. */
    public void synchronize() {
        LoraBackend backend = placement.backendIfOpen();
        if (backend != null) {
            backend.synchronize();
        }
    }

    /**
     * The CUDA stream adapter work on this model is queued on; the caller's own kernels that read
     * the weights can wait on it.
     *
     * @return the model's stream
     * @throws IllegalStateException on the CPU
     */
    public CudaStream cudaStream() {
        if (!(placement instanceof CudaPlacement)) {
            throw new IllegalStateException("a model on the CPU has no CUDA stream");
        }
        return ((CudaLoraBackend) placement.backend()).stream();
    }

    /**
     * Frees everything the model owns: adapter pools, kept copies, the backend, the tensors' memory
     * (and on CUDA releases the context). Every step runs even when one fails; the first failure is
     * thrown. Idempotent; the tensors are unusable afterwards.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        new Cleanup().run(adapters::close).close(placement).rethrow();
    }

    @Override
    public String toString() {
        return report.source().ref().display()
                + " on "
                + device()
                + ", "
                + tensors.size()
                + " tensors";
    }
}
