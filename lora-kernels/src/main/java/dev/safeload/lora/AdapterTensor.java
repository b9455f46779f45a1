package dev.safeload.lora;

import dev.safeload.safetensors.DType;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of an adapter file, widened to fp32 (F16 and BF16 widen exactly). Adapters are small
 * (rank × width per module), so holding them on the heap in fp32 costs little and lets every
 * backend round once, from fp32, to the precision it computes in.
 *
 * @param dtype the dtype the file stored
 * @param shape the shape the file stored
 * @param values the elements in C order
 */
public record AdapterTensor(DType dtype, long[] shape, float[] values) {
    public AdapterTensor {
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        Objects.requireNonNull(values, "values");
        if (elementCount(shape) != values.length) {
            throw new IllegalArgumentException(
                    "shape "
                            + Arrays.toString(shape)
                            + " does not hold "
                            + values.length
                            + " values");
        }
    }

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

    /** The product of the dimensions from {@code from} on. */
    public long trailing(int from) {
        long n = 1;
        for (int i = from; i < shape.length; i++) {
            n *= shape[i];
        }
        return n;
    }

    /** The shape as {@code [a, b, c]}, for messages. */
    public String shapeText() {
        return Arrays.toString(shape);
    }

    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(
                        "negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
