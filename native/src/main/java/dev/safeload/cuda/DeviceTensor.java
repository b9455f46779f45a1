package dev.safeload.cuda;

import dev.safeload.safetensors.DType;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a {@link DeviceModel}: its dtype and shape on the device (after slicing and
 * conversion) and its bytes, a view into the model's arena that starts on a 256-byte boundary.
 *
 * @param name the tensor name
 * @param dtype the dtype in device memory
 * @param shape the shape in device memory, row-major
 * @param buffer the bytes (a view; valid while the model is open)
 * @param arenaOffset where the bytes start in the arena
 */
public record DeviceTensor(
        String name, DType dtype, long[] shape, DeviceBuffer buffer, long arenaOffset) {
    public DeviceTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(buffer, "buffer");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceTensor t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && buffer == t.buffer
                && arenaOffset == t.arenaOffset;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), arenaOffset);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @" + arenaOffset;
    }
}
