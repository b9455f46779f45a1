package dev.safeload.cuda;

import dev.safeload.safetensors.SafetensorsError;
import dev.safeload.safetensors.SafetensorsException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's tensors in device memory: one arena allocation, each tensor a view into it on a
 * 256-byte boundary. Closing the model frees the arena; the views become unusable.
 */
public final class DeviceModel implements AutoCloseable {
    private final DeviceBuffer arena;
    private final Map<String, DeviceTensor> tensors;
    private final UploadReport report;

    DeviceModel(DeviceBuffer arena, List<DeviceTensor> tensors, UploadReport report) {
        this.arena = arena;
        Map<String, DeviceTensor> byName = new LinkedHashMap<>();
        for (DeviceTensor t : tensors) {
            byName.put(t.name(), t);
        }
        this.tensors = byName;
        this.report = report;
    }

    /** The arena holding every tensor. */
    public DeviceBuffer arena() {
        return arena;
    }

    /** The tensors, in arena order. */
    public List<DeviceTensor> tensors() {
        return new ArrayList<>(tensors.values());
    }

    /** The tensor named {@code name}. */
    public DeviceTensor tensor(String name) {
        DeviceTensor t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(
                    SafetensorsError.TensorNotFound,
                    "the device model has no tensor '"
                            + name
                            + "' ("
                            + tensors.size()
                            + " tensors were uploaded)");
        }
        return t;
    }

    /** Whether a tensor named {@code name} was uploaded. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** What the upload moved and how long it took. */
    public UploadReport report() {
        return report;
    }

    /** Frees the arena. Idempotent. */
    @Override
    public void close() {
        arena.close();
    }
}
