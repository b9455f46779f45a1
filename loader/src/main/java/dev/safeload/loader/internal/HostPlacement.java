package dev.safeload.loader.internal;

import dev.safeload.loader.Device;
import dev.safeload.loader.HostTensor;
import dev.safeload.loader.LoadListener;
import dev.safeload.loader.LoadStage;
import dev.safeload.loader.LoadedTensor;
import dev.safeload.lora.CpuLoraBackend;
import dev.safeload.lora.LoraBackend;
import dev.safeload.lora.WeightBuffer;
import dev.safeload.lora.WeightSpec;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.TensorInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A model placed in host memory: one native allocation the placement owns (an {@link
 * Arena#ofShared() shared arena}, so any thread may read the tensors), each tensor at a multiple of
 * 256 bytes, filled straight from the files by {@link HostCopy} (each byte copied once: a {@code
 * memcpy} from the mapping, or one {@code pread} into place). Adapters run on the CPU backend over
 * this memory in place.
 */
public final class HostPlacement extends Placement {
    /** Tensor alignment, as on the device (docs/safetensors.md §4.1). */
    static final long ALIGNMENT = 256;

    private final Arena arena;
    private final List<LoadedTensor> tensors;
    private final long bytesCopied;

    private HostPlacement(Arena arena, List<LoadedTensor> tensors, long bytesCopied) {
        this.arena = arena;
        this.tensors = List.copyOf(tensors);
        this.bytesCopied = bytesCopied;
    }

    /**
     * Copies every tensor of {@code model} into new host memory; on failure nothing stays
     * allocated.
     */
    public static HostPlacement place(SafetensorsModel model, int threads, LoadListener listener) {
        List<TensorInfo> infos = model.tensors();
        long[] offsets = new long[infos.size()];
        long size = 0;
        for (int i = 0; i < infos.size(); i++) {
            offsets[i] = size;
            size = align(size + infos.get(i).byteLength());
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment memory = arena.allocate(Math.max(size, ALIGNMENT), ALIGNMENT);
            List<LoadedTensor> tensors = new ArrayList<>(infos.size());
            List<HostCopy.Piece> pieces = new ArrayList<>();
            for (int i = 0; i < infos.size(); i++) {
                TensorInfo t = infos.get(i);
                MemorySegment slice = memory.asSlice(offsets[i], t.byteLength());
                tensors.add(new HostTensor(t.name(), t.dtype(), t.shape(), slice));
                HostCopy.split(model.fileOf(t.name()), t, slice, pieces);
            }
            long copied = HostCopy.run(pieces, threads, n -> listener.progress(LoadStage.PLACE, n));
            return new HostPlacement(arena, tensors, copied);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    static long align(long offset) {
        return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    @Override
    public Device device() {
        return Device.cpu();
    }

    @Override
    public List<LoadedTensor> tensors() {
        return tensors;
    }

    @Override
    public long bytesCopied() {
        return bytesCopied;
    }

    @Override
    protected LoraBackend openBackend() {
        return new CpuLoraBackend();
    }

    @Override
    public WeightBuffer wrap(LoadedTensor tensor, WeightSpec spec) {
        CpuLoraBackend cpu = (CpuLoraBackend) backend();
        return cpu.wrap(spec, ((HostTensor) tensor).segment());
    }

    @Override
    public void read(LoadedTensor tensor, MemorySegment destination) {
        // The CPU backend is synchronous: its work is done when its calls return.
        destination.copyFrom(((HostTensor) tensor).segment());
    }

    @Override
    protected void free() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
