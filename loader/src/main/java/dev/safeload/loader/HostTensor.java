package dev.safeload.loader;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.TensorView;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor of a model placed on the CPU: little-endian elements in C order, in native memory the
 * model owns (each tensor 256-byte aligned). Writes to the segment change the model.
 *
 * @param name the tensor's name
 * @param dtype its element type
 * @param shape its shape
 * @param segment its bytes; usable from any thread until the model is closed, then access fails
 */
public record HostTensor(String name, DType dtype, long[] shape, MemorySegment segment)
        implements LoadedTensor {
    /**
     * Checks the parts.
     *
     * @param name the tensor's name
     * @param dtype its element type
     * @param shape its shape (copied)
     * @param segment its bytes
     */
    public HostTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(segment, "segment");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public long byteSize() {
        return segment.byteSize();
    }

    /**
     * The tensor as a safetensors view (element access, slicing, dtype conversion) over the same
     * memory.
     *
     * @return a view; valid while the model is open
     */
    public TensorView view() {
        return TensorView.of(name, dtype, shape, segment);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostTensor t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && segment.equals(t.segment);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " (cpu)";
    }
}
