package dev.safeload.safetensors;

import java.util.Arrays;
import java.util.Objects;

/**
 * One header entry: a tensor's name, type, shape and byte range. {@code begin} and {@code end} are
 * relative to the start of the data section ({@code 8 + N}), as {@code data_offsets} in the file;
 * {@code [begin, end)}. Shape arrays are copied in and out, so an instance is immutable.
 *
 * @param name the tensor name (any string, including the empty one)
 * @param dtype the element type
 * @param shape the dimensions, row-major; empty for a scalar
 * @param begin first byte, relative to the data section
 * @param end one past the last byte, relative to the data section
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(
                        "negative dimension in " + Arrays.toString(shape));
            }
        }
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("bad byte range [" + begin + ", " + end + ")");
        }
    }

    /** A copy of the dimensions. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** The size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** The product of the dimensions (1 for a scalar). */
    public long elementCount() {
        return elementCount(shape);
    }

    /** {@code end - begin}. */
    public long byteLength() {
        return end - begin;
    }

    /** Product of {@code shape}, 1 for an empty shape; throws ArithmeticException on overflow. */
    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && begin == t.begin
                && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return "TensorInfo["
                + name
                + ", "
                + dtype.formatName()
                + ", "
                + Arrays.toString(shape)
                + ", ["
                + begin
                + ", "
                + end
                + ")]";
    }
}
