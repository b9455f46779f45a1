package dev.safeload.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;

/**
 * The cuBLAS binding on a real GPU against a double-precision CPU product: fp16 operands with fp32
 * accumulation, row-major weights through the transpose identity (docs/lora.md §4.3), every entry
 * point, and statuses as named exceptions.
 */
@RequiresGpu
class CublasGpuTest {
    static CudaContext context;
    static CudaStream stream;
    static CublasHandle blas;

    @BeforeAll
    static void open() {
        context = CudaContext.open(0);
        stream = context.createStream();
        blas = Cublas.load().createHandle(stream);
    }

    @AfterAll
    static void close() {
        blas.close();
        stream.close();
        context.close();
    }

    @AfterEach
    void nothingLeft() {
        // Only the class's own stream and handle stay open between tests.
        assertEquals(2, LeakDetector.open().size(), LeakDetector.open().toString());
    }

    /** Row-major rows×cols random fp16 matrix, its values as doubles. */
    record Matrix(int rows, int cols, double[] values, DeviceBuffer device)
            implements AutoCloseable {
        static Matrix random(int rows, int cols, long seed) {
            Random random = new Random(seed);
            double[] values = new double[rows * cols];
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment host = arena.allocate(2L * values.length);
                for (int i = 0; i < values.length; i++) {
                    short h = Float.floatToFloat16((float) random.nextGaussian());
                    values[i] = Float.float16ToFloat(h);
                    host.setAtIndex(ValueLayout.JAVA_SHORT, i, h);
                }
                DeviceBuffer device = context.allocate(host.byteSize());
                device.copyFromHost(host, 0);
                return new Matrix(rows, cols, values, device);
            }
        }

        double[] download() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment host = arena.allocate(2L * rows * cols);
                device.copyToHost(0, host);
                double[] out = new double[rows * cols];
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.float16ToFloat(host.getAtIndex(ValueLayout.JAVA_SHORT, i));
                }
                return out;
            }
        }

        @Override
        public void close() {
            device.close();
        }
    }

    @Test
    void gemmExComputesARowMajorProductThroughTheTransposeIdentity() {
        // Y(rows x n) = X(rows x k) * W(k x n), all row-major: column-major Y^T = W^T * X^T.
        int rows = 64, k = 96, n = 80;
        try (Matrix x = Matrix.random(rows, k, 1);
                Matrix w = Matrix.random(k, n, 2);
                Matrix y = Matrix.random(rows, n, 3)) {
            blas.gemmEx(
                    CublasOperation.N,
                    CublasOperation.N,
                    n,
                    rows,
                    k,
                    1.0,
                    new DeviceMatrix(w.device(), CudaDataType.R_16F, n),
                    new DeviceMatrix(x.device(), CudaDataType.R_16F, k),
                    0.0,
                    new DeviceMatrix(y.device(), CudaDataType.R_16F, n),
                    CublasComputeType.COMPUTE_32F);
            stream.synchronize();
            assertClose(product(x, w, rows, k, n), y.download());
        }
    }

    @Test
    void halfComputeTakesHalfScalars() {
        int m = 32;
        try (Matrix a = Matrix.random(m, m, 4);
                Matrix b = Matrix.random(m, m, 5);
                Matrix c = Matrix.random(m, m, 6)) {
            blas.gemmEx(
                    CublasOperation.N,
                    CublasOperation.N,
                    m,
                    m,
                    m,
                    0.5,
                    new DeviceMatrix(b.device(), CudaDataType.R_16F, m),
                    new DeviceMatrix(a.device(), CudaDataType.R_16F, m),
                    0.0,
                    new DeviceMatrix(c.device(), CudaDataType.R_16F, m),
                    CublasComputeType.COMPUTE_16F);
            stream.synchronize();
            double[] expected = product(a, b, m, m, m);
            for (int i = 0; i < expected.length; i++) {
                expected[i] *= 0.5;
            }
            assertClose(expected, c.download(), 2e-2);
        }
    }

    @Test
    void stridedBatchedAndBatchedAndGroupedAgreeWithSeparateProducts() {
        int m = 16, batch = 3;
        try (Matrix a = Matrix.random(batch * m, m, 7);
                Matrix b = Matrix.random(batch * m, m, 8);
                Matrix strided = Matrix.random(batch * m, m, 9);
                Matrix pointered = Matrix.random(batch * m, m, 10);
                Matrix grouped = Matrix.random(batch * m, m, 11)) {
            long stride = (long) m * m;
            blas.gemmStridedBatchedEx(
                    CublasOperation.N,
                    CublasOperation.N,
                    m,
                    m,
                    m,
                    1.0,
                    new DeviceMatrix(b.device(), CudaDataType.R_16F, m),
                    stride,
                    new DeviceMatrix(a.device(), CudaDataType.R_16F, m),
                    stride,
                    0.0,
                    new DeviceMatrix(strided.device(), CudaDataType.R_16F, m),
                    stride,
                    batch,
                    CublasComputeType.COMPUTE_32F);
            try (DeviceBuffer aArray = pointers(b.device(), stride * 2, batch);
                    DeviceBuffer bArray = pointers(a.device(), stride * 2, batch);
                    DeviceBuffer cArray = pointers(pointered.device(), stride * 2, batch);
                    DeviceBuffer gArray = pointers(grouped.device(), stride * 2, batch)) {
                blas.gemmBatchedEx(
                        CublasOperation.N,
                        CublasOperation.N,
                        m,
                        m,
                        m,
                        1.0,
                        aArray,
                        CudaDataType.R_16F,
                        m,
                        bArray,
                        CudaDataType.R_16F,
                        m,
                        0.0,
                        cArray,
                        CudaDataType.R_16F,
                        m,
                        batch,
                        CublasComputeType.COMPUTE_32F);
                if (Cublas.load().hasGroupedGemm()) {
                    blas.gemmGroupedBatchedEx(
                            List.of(
                                    new GemmGroup(
                                            CublasOperation.N,
                                            CublasOperation.N,
                                            m,
                                            m,
                                            m,
                                            1.0,
                                            m,
                                            m,
                                            0.0,
                                            m,
                                            1),
                                    new GemmGroup(
                                            CublasOperation.N,
                                            CublasOperation.N,
                                            m,
                                            m,
                                            m,
                                            1.0,
                                            m,
                                            m,
                                            0.0,
                                            m,
                                            2)),
                            aArray,
                            CudaDataType.R_16F,
                            bArray,
                            CudaDataType.R_16F,
                            gArray,
                            CudaDataType.R_16F,
                            CublasComputeType.COMPUTE_32F);
                }
                stream.synchronize();
            }
            double[] s = strided.download();
            double[] p = pointered.download();
            double[] g = grouped.download();
            for (int i = 0; i < batch; i++) {
                double[] expected = product(slice(a, i, m), slice(b, i, m), m, m, m);
                assertClose(expected, java.util.Arrays.copyOfRange(s, i * m * m, (i + 1) * m * m));
                assertClose(expected, java.util.Arrays.copyOfRange(p, i * m * m, (i + 1) * m * m));
                if (Cublas.load().hasGroupedGemm()) {
                    assertClose(
                            expected, java.util.Arrays.copyOfRange(g, i * m * m, (i + 1) * m * m));
                }
            }
        }
    }

    @Test
    void invalidArgumentsBecomeNamedStatuses() {
        try (Matrix a = Matrix.random(4, 4, 12)) {
            DeviceMatrix operand = new DeviceMatrix(a.device(), CudaDataType.R_16F, 4);
            CudaException e =
                    assertThrows(
                            CudaException.class,
                            () ->
                                    blas.gemmEx(
                                            CublasOperation.N,
                                            CublasOperation.N,
                                            -1,
                                            4,
                                            4,
                                            1.0,
                                            operand,
                                            operand,
                                            0.0,
                                            operand,
                                            CublasComputeType.COMPUTE_32F));
            assertEquals(CudaError.CUBLAS_STATUS_INVALID_VALUE, e.kind());
            assertTrue(e.getMessage().startsWith("cublasGemmEx("), e.getMessage());
            assertThrows(
                    IllegalArgumentException.class,
                    () ->
                            blas.gemmEx(
                                    CublasOperation.N,
                                    CublasOperation.N,
                                    8,
                                    8,
                                    8,
                                    1.0,
                                    operand,
                                    operand,
                                    0.0,
                                    operand,
                                    CublasComputeType.COMPUTE_32F));
        }
    }

    /** A device array of {@code count} pointers, {@code strideBytes} apart from {@code base}. */
    private static DeviceBuffer pointers(DeviceBuffer base, long strideBytes, int count) {
        DeviceBuffer array = context.allocate(8L * count);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(8L * count);
            for (int i = 0; i < count; i++) {
                host.setAtIndex(ValueLayout.JAVA_LONG, i, base.address() + i * strideBytes);
            }
            array.copyFromHost(host, 0);
        }
        return array;
    }

    private static Matrix slice(Matrix m, int index, int size) {
        double[] values =
                java.util.Arrays.copyOfRange(
                        m.values(), index * size * size, (index + 1) * size * size);
        return new Matrix(size, size, values, m.device());
    }

    /** Row-major x(rows×k)·w(k×n) in double precision. */
    private static double[] product(Matrix x, Matrix w, int rows, int k, int n) {
        double[] out = new double[rows * n];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < n; c++) {
                double sum = 0;
                for (int i = 0; i < k; i++) {
                    sum += x.values()[r * k + i] * w.values()[i * n + c];
                }
                out[r * n + c] = sum;
            }
        }
        return out;
    }

    private static void assertClose(double[] expected, double[] actual) {
        assertClose(expected, actual, 5e-3);
    }

    private static void assertClose(double[] expected, double[] actual, double relative) {
        assertEquals(expected.length, actual.length);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs(expected[i] - actual[i]) / Math.max(1.0, Math.abs(expected[i]));
            worst = Math.max(worst, error);
        }
        assertTrue(worst <= relative, "worst relative error " + worst);
    }
}
