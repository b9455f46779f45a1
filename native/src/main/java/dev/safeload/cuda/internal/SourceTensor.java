package dev.safeload.cuda.internal;

import dev.safeload.safetensors.DType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor an upload reads: what the pipeline needs of a safetensors header entry, and how to
 * read its bytes (from several threads at once).
 *
 * @param name the tensor name
 * @param dtype the element type
 * @param shape the dimensions, row-major
 * @param byteLength the tensor's size in bytes
 * @param reader reads bytes of this tensor
 */
public record SourceTensor(String name, DType dtype, long[] shape, long byteLength, Reader reader) {
    /**
     * Reads {@code dst.byteSize()} bytes of the tensor starting {@code offset} bytes into it;
     * thread-safe.
     */
    @FunctionalInterface
    public interface Reader {
        void read(long offset, MemorySegment dst);
    }

    public SourceTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(reader, "reader");
        shape = shape.clone();
    }

    /** Bits per element. */
    public int bits() {
        return dtype.bits();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public String toString() {
        return name + " " + dtype.formatName() + Arrays.toString(shape);
    }
}
