package dev.safeload.safetensors;

import dev.safeload.safetensors.internal.Converter;
import dev.safeload.safetensors.internal.ElementReader;
import dev.safeload.safetensors.internal.Slicer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * A tensor: name, dtype, shape and its bytes as a {@link MemorySegment} in C (row-major) order,
 * little-endian, possibly unaligned. Views from a mapped {@link SafetensorsFile} are zero-copy and
 * live as long as the file is open; {@link #slice} returns a view when the selection is one
 * contiguous range and a copy otherwise; {@link #to} always copies (unless nothing changes). Copies
 * are allocated in an automatic arena and freed when unreachable.
 */
public final class TensorView {
    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final long elementCount;
    private final MemorySegment segment;

    private TensorView(
            String name, DType dtype, long[] shape, long elementCount, MemorySegment segment) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape;
        this.elementCount = elementCount;
        this.segment = segment;
    }

    /**
     * Wraps {@code data} as a tensor; its size must be exactly the shape's byte size.
     *
     * @throws SafetensorsException {@link SafetensorsError#TensorInvalidInfo} if the size is wrong,
     *     {@link SafetensorsError#MisalignedSlice} for sub-byte counts that do not fill whole
     *     bytes, {@link SafetensorsError#ValidationOverflow} if the shape overflows
     */
    public static TensorView of(String name, DType dtype, long[] shape, MemorySegment data) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(data, "data");
        long[] dims = shape.clone();
        long count = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException(
                        "negative dimension in " + Arrays.toString(dims));
            }
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException e) {
                throw new SafetensorsException(
                        SafetensorsError.ValidationOverflow,
                        "element count of shape " + Arrays.toString(dims) + " overflows");
            }
        }
        long bytes = dtype.byteSize(count);
        if (bytes != data.byteSize()) {
            throw new SafetensorsException(
                    SafetensorsError.TensorInvalidInfo,
                    String.format(
                            Locale.ROOT,
                            "tensor of type %s and shape %s can't be created from %d bytes (needs"
                                    + " %d)",
                            dtype.formatName(),
                            Arrays.toString(dims),
                            data.byteSize(),
                            bytes));
        }
        return new TensorView(name, dtype, dims, count, data);
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the dimensions. */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        return elementCount;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    /** The bytes, C order, little-endian; read-only when they come from a mapped file. */
    public MemorySegment segment() {
        return segment;
    }

    /** A copy of the bytes on the heap (at most 2 GiB). */
    public byte[] toByteArray() {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }

    /** The flat (row-major) position of {@code index}, bounds-checked per dimension. */
    public long flatIndex(long... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "tensor %s has %d dimensions, got %d indices",
                            name,
                            shape.length,
                            index.length));
        }
        long flat = 0;
        for (int i = 0; i < shape.length; i++) {
            long k = Objects.checkIndex(index[i], shape[i]);
            flat = flat * shape[i] + k;
        }
        return flat;
    }

    /** The element at {@code index} as a float (floating-point dtypes round to nearest even). */
    public float getFloat(long... index) {
        return ElementReader.getFloat(segment, dtype, flatIndex(index));
    }

    /**
     * The element at {@code index} as a double (exact for every dtype but U64 above 2^53 and I64).
     */
    public double getDouble(long... index) {
        return ElementReader.getDouble(segment, dtype, flatIndex(index));
    }

    /**
     * The element at {@code index} of an integer or BOOL tensor as a long (U64 as its two's
     * complement bit pattern; use {@link Long#toUnsignedString}).
     */
    public long getLong(long... index) {
        return ElementReader.getLong(segment, dtype, flatIndex(index));
    }

    /** The element at flat position {@code i} as a float. */
    public float getFloatFlat(long i) {
        return ElementReader.getFloat(segment, dtype, Objects.checkIndex(i, elementCount));
    }

    /** The raw bits of the element at flat position {@code i} (sub-byte types unpacked). */
    public long getBitsFlat(long i) {
        return ElementReader.rawBits(segment, dtype, Objects.checkIndex(i, elementCount));
    }

    /** Parses {@code numpySpec} (see {@link SliceSpec#parse}) and slices. */
    public TensorView slice(String numpySpec) {
        return slice(SliceSpec.parse(numpySpec));
    }

    /**
     * numpy basic indexing: a contiguous selection is a zero-copy view of this one, a strided one
     * is copied.
     *
     * @throws SafetensorsException {@link SafetensorsError#InvalidSlice} for too many indices or an
     *     integer index out of range, {@link SafetensorsError#MisalignedSlice} when a sub-byte
     *     selection does not start and end on byte boundaries
     */
    public TensorView slice(SliceSpec spec) {
        Slicer.Result r = Slicer.slice(name, dtype, shape, segment, spec);
        return new TensorView(name, dtype, r.shape(), TensorInfo.elementCount(r.shape()), r.data());
    }

    /**
     * This tensor converted to {@code target} ({@link DType#F32}, {@link DType#F16}, {@link
     * DType#BF16} or {@link DType#F64}) from any floating-point dtype, rounding to nearest even,
     * with NaN, infinities and subnormals as numpy and ml_dtypes convert them. Returns {@code this}
     * when the dtype is already {@code target}.
     *
     * <p>The result lives on the Java heap when it fits in a {@code byte[]} (under 2 GiB), off-heap
     * in an automatic arena otherwise. Heap memory is the faster home for a throw-away result:
     * native memory from {@code Arena.ofAuto()} is zeroed, faulted in page by page and released
     * only after a GC, so converting a whole model that way runs into the direct-memory limit and
     * its forced GCs (measured by the safetensors benchmark). To convert into memory you own, such
     * as a pinned staging buffer, use {@link #convertInto(DType, MemorySegment)}.
     *
     * @throws SafetensorsException {@link SafetensorsError#UnsupportedDtype} for non-float sources
     *     or other targets
     */
    public TensorView to(DType target) {
        if (target == dtype) {
            return this;
        }
        Converter.check(dtype, target, name);
        long bytes = target.byteSize(elementCount);
        // A byte[] (not a wider array) so that asByteBuffer() works on the result as on a
        // native one; every element access here uses the unaligned layouts.
        MemorySegment out =
                bytes <= Integer.MAX_VALUE - 8
                        ? MemorySegment.ofArray(new byte[(int) bytes])
                        : Arena.ofAuto().allocate(bytes, 8);
        Converter.convert(segment, dtype, 0, out, target, elementCount);
        return new TensorView(name, target, shape, elementCount, out);
    }

    /**
     * Converts this tensor into caller memory (a pinned staging buffer, a preallocated segment):
     * {@code dst} must be exactly {@code target.byteSize(elementCount())} bytes. Same conversions
     * as {@link #to}, without allocating.
     *
     * @throws IllegalArgumentException if {@code dst} has the wrong size
     */
    public void convertInto(DType target, MemorySegment dst) {
        long bytes = target.byteSize(elementCount);
        if (dst.byteSize() != bytes) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "destination has %d bytes, %s of %s needs %d",
                            dst.byteSize(),
                            Arrays.toString(shape),
                            target.formatName(),
                            bytes));
        }
        if (target != dtype) {
            Converter.check(dtype, target, name);
        }
        Converter.convert(segment, dtype, 0, dst, target, elementCount);
    }

    /** All elements as floats (at most 2^31 - 1 of them). */
    public float[] toFloatArray() {
        if (elementCount > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(
                    SafetensorsError.UnsupportedDtype,
                    "tensor "
                            + name
                            + " has "
                            + elementCount
                            + " elements, too many for a float[]");
        }
        float[] out = new float[(int) elementCount];
        if (dtype == DType.F32) {
            MemorySegment.copy(segment, ElementReader.F32, 0, out, 0, out.length);
            return out;
        }
        if (dtype.isFloatingPoint()) {
            Converter.check(dtype, DType.F32, name);
            Converter.convert(
                    segment, dtype, 0, MemorySegment.ofArray(out), DType.F32, elementCount);
            return out;
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = ElementReader.getFloat(segment, dtype, i);
        }
        return out;
    }

    @Override
    public String toString() {
        return "TensorView["
                + name
                + ", "
                + dtype.formatName()
                + ", "
                + Arrays.toString(shape)
                + "]";
    }
}
