package dev.safeload.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.safeload.cuda.internal.driver.CublasLibrary;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Locale;

/**
 * A cuBLAS handle bound to one stream. Scalars are given as {@code double} and passed in the type
 * the compute type implies ({@link CublasComputeType#scaleType()}); pointer mode stays host.
 * Operand extents are checked against their buffers before the call, so a wrong leading dimension
 * fails here instead of corrupting device memory.
 */
public final class CublasHandle extends ContextResource {
    /** {@code CUBLAS_GEMM_DEFAULT}. */
    private static final int GEMM_DEFAULT = -1;

    private final CublasLibrary library;
    private final MemorySegment handle;
    private volatile CudaStream stream;

    private CublasHandle(CublasLibrary library, CudaStream stream, MemorySegment handle) {
        super(stream.context());
        this.library = library;
        this.stream = stream;
        this.handle = handle;
        register(toString());
    }

    static CublasHandle create(CublasLibrary library, CudaStream stream) {
        stream.context().makeCurrent();
        MemorySegment handle = library.create();
        try {
            library.setStream(handle, stream.address());
        } catch (RuntimeException e) {
            library.destroy(handle);
            throw e;
        }
        return new CublasHandle(library, stream, handle);
    }

    /** The stream calls are enqueued on. */
    public CudaStream stream() {
        return stream;
    }

    /** Binds the handle to another stream of the same context ({@code cublasSetStream_v2}). */
    public void setStream(CudaStream stream) {
        if (stream.context() != context) {
            throw new IllegalArgumentException("the stream belongs to another context");
        }
        bind();
        library.setStream(handle, stream.address());
        this.stream = stream;
    }

    /**
     * {@code cublasSetMathMode}: 0 default, 1 tensor op (deprecated), 2 pedantic, 3 TF32, 16 no
     * reduced-precision reduction.
     */
    public void setMathMode(int mode) {
        bind();
        library.setMathMode(handle, mode);
    }

    /** {@code C = alpha·op(A)·op(B) + beta·C} with C m×n (column-major), op(A) m×k, op(B) k×n. */
    public void gemmEx(
            CublasOperation transa,
            CublasOperation transb,
            int m,
            int n,
            int k,
            double alpha,
            DeviceMatrix a,
            DeviceMatrix b,
            double beta,
            DeviceMatrix c,
            CublasComputeType computeType) {
        checkOperand(
                "A",
                a,
                transa == CublasOperation.N ? m : k,
                transa == CublasOperation.N ? k : m,
                0,
                1);
        checkOperand(
                "B",
                b,
                transb == CublasOperation.N ? k : n,
                transb == CublasOperation.N ? n : k,
                0,
                1);
        checkOperand("C", c, m, n, 0, 1);
        bind();
        try (Arena arena = Arena.ofConfined()) {
            String call =
                    String.format(
                            Locale.ROOT,
                            "cublasGemmEx(%s, %s, m=%d, n=%d, k=%d, %s, %s)",
                            transa,
                            transb,
                            m,
                            n,
                            k,
                            a.type(),
                            computeType);
            CublasLibrary.check(
                    library.gemmEx(
                            handle,
                            transa.value(),
                            transb.value(),
                            m,
                            n,
                            k,
                            scalars(arena, computeType, alpha),
                            a.buffer().address(),
                            a.type().value(),
                            a.ld(),
                            b.buffer().address(),
                            b.type().value(),
                            b.ld(),
                            scalars(arena, computeType, beta),
                            c.buffer().address(),
                            c.type().value(),
                            c.ld(),
                            computeType.value(),
                            GEMM_DEFAULT),
                    call);
        }
    }

    /**
     * {@link #gemmEx} on {@code batchCount} matrices {@code stride} elements apart in each buffer.
     */
    public void gemmStridedBatchedEx(
            CublasOperation transa,
            CublasOperation transb,
            int m,
            int n,
            int k,
            double alpha,
            DeviceMatrix a,
            long strideA,
            DeviceMatrix b,
            long strideB,
            double beta,
            DeviceMatrix c,
            long strideC,
            int batchCount,
            CublasComputeType computeType) {
        checkOperand(
                "A",
                a,
                transa == CublasOperation.N ? m : k,
                transa == CublasOperation.N ? k : m,
                strideA,
                batchCount);
        checkOperand(
                "B",
                b,
                transb == CublasOperation.N ? k : n,
                transb == CublasOperation.N ? n : k,
                strideB,
                batchCount);
        checkOperand("C", c, m, n, strideC, batchCount);
        bind();
        try (Arena arena = Arena.ofConfined()) {
            String call =
                    String.format(
                            Locale.ROOT,
                            "cublasGemmStridedBatchedEx(%s, %s, m=%d, n=%d, k=%d, batch=%d, %s,"
                                    + " %s)",
                            transa,
                            transb,
                            m,
                            n,
                            k,
                            batchCount,
                            a.type(),
                            computeType);
            CublasLibrary.check(
                    library.gemmStridedBatchedEx(
                            handle,
                            transa.value(),
                            transb.value(),
                            m,
                            n,
                            k,
                            scalars(arena, computeType, alpha),
                            a.buffer().address(),
                            a.type().value(),
                            a.ld(),
                            strideA,
                            b.buffer().address(),
                            b.type().value(),
                            b.ld(),
                            strideB,
                            scalars(arena, computeType, beta),
                            c.buffer().address(),
                            c.type().value(),
                            c.ld(),
                            strideC,
                            batchCount,
                            computeType.value(),
                            GEMM_DEFAULT),
                    call);
        }
    }

    /**
     * {@link #gemmEx} on {@code batchCount} matrices whose device addresses are listed (as 8-byte
     * pointers) in the device buffers {@code aArray}, {@code bArray}, {@code cArray}.
     */
    public void gemmBatchedEx(
            CublasOperation transa,
            CublasOperation transb,
            int m,
            int n,
            int k,
            double alpha,
            DeviceBuffer aArray,
            CudaDataType aType,
            int lda,
            DeviceBuffer bArray,
            CudaDataType bType,
            int ldb,
            double beta,
            DeviceBuffer cArray,
            CudaDataType cType,
            int ldc,
            int batchCount,
            CublasComputeType computeType) {
        checkPointerArray("Aarray", aArray, batchCount);
        checkPointerArray("Barray", bArray, batchCount);
        checkPointerArray("Carray", cArray, batchCount);
        bind();
        try (Arena arena = Arena.ofConfined()) {
            String call =
                    String.format(
                            Locale.ROOT,
                            "cublasGemmBatchedEx(%s, %s, m=%d, n=%d, k=%d, batch=%d, %s, %s)",
                            transa,
                            transb,
                            m,
                            n,
                            k,
                            batchCount,
                            aType,
                            computeType);
            CublasLibrary.check(
                    library.gemmBatchedEx(
                            handle,
                            transa.value(),
                            transb.value(),
                            m,
                            n,
                            k,
                            scalars(arena, computeType, alpha),
                            aArray.address(),
                            aType.value(),
                            lda,
                            bArray.address(),
                            bType.value(),
                            ldb,
                            scalars(arena, computeType, beta),
                            cArray.address(),
                            cType.value(),
                            ldc,
                            batchCount,
                            computeType.value(),
                            GEMM_DEFAULT),
                    call);
        }
    }

    /**
     * {@code cublasGemmGroupedBatchedEx} (cuBLAS 12.5+, see {@link Cublas#hasGroupedGemm()}): each
     * group's products of one shape, with the operands' device addresses listed group after group
     * in the device pointer arrays.
     */
    public void gemmGroupedBatchedEx(
            List<GemmGroup> groups,
            DeviceBuffer aArray,
            CudaDataType aType,
            DeviceBuffer bArray,
            CudaDataType bType,
            DeviceBuffer cArray,
            CudaDataType cType,
            CublasComputeType computeType) {
        int total = groups.stream().mapToInt(GemmGroup::size).sum();
        checkPointerArray("Aarray", aArray, total);
        checkPointerArray("Barray", bArray, total);
        checkPointerArray("Carray", cArray, total);
        int count = groups.size();
        bind();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment transa = arena.allocate(JAVA_INT, count);
            MemorySegment transb = arena.allocate(JAVA_INT, count);
            MemorySegment m = arena.allocate(JAVA_INT, count);
            MemorySegment n = arena.allocate(JAVA_INT, count);
            MemorySegment k = arena.allocate(JAVA_INT, count);
            MemorySegment lda = arena.allocate(JAVA_INT, count);
            MemorySegment ldb = arena.allocate(JAVA_INT, count);
            MemorySegment ldc = arena.allocate(JAVA_INT, count);
            MemorySegment sizes = arena.allocate(JAVA_INT, count);
            long scalarSize = computeType.scaleType().byteSize();
            MemorySegment alphas = arena.allocate(scalarSize * Math.max(1, count), 8);
            MemorySegment betas = arena.allocate(scalarSize * Math.max(1, count), 8);
            for (int g = 0; g < count; g++) {
                GemmGroup group = groups.get(g);
                transa.setAtIndex(JAVA_INT, g, group.transa().value());
                transb.setAtIndex(JAVA_INT, g, group.transb().value());
                m.setAtIndex(JAVA_INT, g, group.m());
                n.setAtIndex(JAVA_INT, g, group.n());
                k.setAtIndex(JAVA_INT, g, group.k());
                lda.setAtIndex(JAVA_INT, g, group.lda());
                ldb.setAtIndex(JAVA_INT, g, group.ldb());
                ldc.setAtIndex(JAVA_INT, g, group.ldc());
                sizes.setAtIndex(JAVA_INT, g, group.size());
                writeScalar(alphas.asSlice(g * scalarSize, scalarSize), computeType, group.alpha());
                writeScalar(betas.asSlice(g * scalarSize, scalarSize), computeType, group.beta());
            }
            String call =
                    String.format(
                            Locale.ROOT,
                            "cublasGemmGroupedBatchedEx(groups=%d, total=%d, %s, %s)",
                            count,
                            total,
                            aType,
                            computeType);
            CublasLibrary.check(
                    library.gemmGroupedBatchedEx(
                            handle,
                            transa,
                            transb,
                            m,
                            n,
                            k,
                            alphas,
                            aArray.address(),
                            aType.value(),
                            lda,
                            bArray.address(),
                            bType.value(),
                            ldb,
                            betas,
                            cArray.address(),
                            cType.value(),
                            ldc,
                            count,
                            sizes,
                            computeType.value()),
                    call);
        }
    }

    @Override
    void destroy() {
        library.destroy(handle);
    }

    private void bind() {
        ensureOpen();
        context.makeCurrent();
    }

    @Override
    public String toString() {
        return "CublasHandle(" + library.library() + ")";
    }

    /** One scalar in the compute type's scale type, in host memory that lives for the call. */
    private static MemorySegment scalars(Arena arena, CublasComputeType computeType, double value) {
        MemorySegment segment = arena.allocate(8, 8);
        writeScalar(segment, computeType, value);
        return segment;
    }

    private static void writeScalar(MemorySegment at, CublasComputeType computeType, double value) {
        switch (computeType.scaleType()) {
            case R_16F -> at.set(JAVA_SHORT, 0, Float.floatToFloat16((float) value));
            case R_32F -> at.set(JAVA_FLOAT, 0, (float) value);
            case R_64F -> at.set(JAVA_DOUBLE, 0, value);
            case R_32I -> at.set(JAVA_INT, 0, (int) value);
            default ->
                    throw new IllegalArgumentException("no scalar type " + computeType.scaleType());
        }
    }

    /**
     * Checks that a column-major operand of {@code rows}×{@code cols} with its leading dimension
     * (and, batched, {@code batch} copies {@code stride} elements apart) lies inside its buffer.
     */
    private static void checkOperand(
            String name, DeviceMatrix operand, int rows, int cols, long stride, int batch) {
        checkExtent(
                name,
                operand.type(),
                operand.ld(),
                operand.buffer().byteSize(),
                rows,
                cols,
                stride,
                batch);
    }

    static void checkExtent(
            String name,
            CudaDataType type,
            int ld,
            long bufferBytes,
            int rows,
            int cols,
            long stride,
            int batch) {
        if (ld < Math.max(1, rows)) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "%s: leading dimension %d is less than its %d rows",
                            name,
                            ld,
                            rows));
        }
        if (rows == 0 || cols == 0 || batch == 0) {
            return;
        }
        if (batch > 1 && stride < 0) {
            throw new IllegalArgumentException(name + ": negative stride " + stride);
        }
        long elements =
                Math.addExact(
                        Math.multiplyExact((long) batch - 1, stride),
                        Math.addExact(Math.multiplyExact((long) cols - 1, ld), rows));
        long bytes = Math.multiplyExact(elements, type.byteSize());
        if (bytes > bufferBytes) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "%s: %d×%d %s (ld %d, stride %d, batch %d) needs %d bytes, its buffer"
                                    + " has %d",
                            name,
                            rows,
                            cols,
                            type,
                            ld,
                            stride,
                            batch,
                            bytes,
                            bufferBytes));
        }
    }

    private static void checkPointerArray(String name, DeviceBuffer array, int count) {
        if (count < 0 || (long) count * ADDRESS.byteSize() > array.byteSize()) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "%s: %d pointers need %d bytes, the buffer has %d",
                            name,
                            count,
                            count * 8L,
                            array.byteSize()));
        }
    }
}
