package dev.safeload.lora;

import dev.safeload.safetensors.DType;

import java.util.Arrays;
import java.util.Objects;

/**
 * A base-model tensor as its file describes it: what binding an adapter needs to know about the
 * base before any weight is read.
 *
 * @param name the tensor name, for example {@code model.layers.0.self_attn.q_proj.weight}
 * @param dtype the element type
 * @param shape the shape
 */
public record WeightSpec(String name, DType dtype, long[] shape) {
    public WeightSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The number of elements. */
    public long elementCount() {
        return AdapterTensor.elementCount(shape);
    }

    /** The shape as {@code [a, b]}, for messages. */
    public String shapeText() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightSpec w
                && name.equals(w.name)
                && dtype == w.dtype
                && Arrays.equals(shape, w.shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + " " + dtype.formatName() + shapeText();
    }
}
