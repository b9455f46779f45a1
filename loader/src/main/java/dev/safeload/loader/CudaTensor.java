package dev.safeload.loader;

import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.safetensors.DType;

import jcuda.driver.CUdeviceptr;

import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor of a model placed on a CUDA device: little-endian elements in C order, a view into the
 * model's one device arena, starting on a 256-byte boundary.
 *
 * <p>Adapter work on the model is queued on the model's stream ({@link LoadedModel#cudaStream()});
 * code that reads the tensor on another stream waits for it first ({@link
 * LoadedModel#synchronize()}, or an event on that stream).
 *
 * @param name the tensor's name
 * @param dtype its element type on the device
 * @param shape its shape on the device
 * @param buffer its bytes: a view that frees nothing, valid until the model is closed
 */
public record CudaTensor(String name, DType dtype, long[] shape, DeviceBuffer buffer)
        implements LoadedTensor {
    /**
     * Checks the parts.
     *
     * @param name the tensor's name
     * @param dtype its element type
     * @param shape its shape (copied)
     * @param buffer its bytes
     */
    public CudaTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(buffer, "buffer");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public long byteSize() {
        return buffer.byteSize();
    }

    /**
     * The device pointer, for the caller's own JCuda calls (a fresh object each time).
     *
     * @return the tensor's first byte on the device
     */
    public CUdeviceptr pointer() {
        return buffer.pointer();
    }

    /**
     * The device address, for foreign-function calls (cuBLAS, a kernel library).
     *
     * @return the tensor's first byte on the device
     */
    public long address() {
        return buffer.address();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CudaTensor t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && buffer == t.buffer;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " (" + buffer + ")";
    }
}
