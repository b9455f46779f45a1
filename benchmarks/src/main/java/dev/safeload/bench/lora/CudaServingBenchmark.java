package dev.safeload.bench.lora;

import dev.safeload.cuda.Cublas;
import dev.safeload.cuda.CublasComputeType;
import dev.safeload.cuda.CublasHandle;
import dev.safeload.cuda.CublasOperation;
import dev.safeload.cuda.CudaDataType;
import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.cuda.DeviceMatrix;
import dev.safeload.lora.AdapterPool;
import dev.safeload.lora.CudaLoraBackend;
import dev.safeload.lora.DeviceActivations;
import dev.safeload.lora.Precision;
import dev.safeload.lora.Segment;
import dev.safeload.lora.WeightSpec;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * GPU serving without merging: {@code tokens} rows of a 4096×4096 F16 projection split over {@code
 * adapters} rank-16 adapters ({@code loraApply}: grouped shrink + expand GEMMs) against the merged
 * model's own matmul ({@code mergedMatmul}: one cublasGemmEx {@code y = x·Wᵀ}), each synced.
 * Overhead = loraApply / mergedMatmul. Needs a GPU.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 8, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@State(Scope.Benchmark)
public class CudaServingBenchmark extends ServingBatch {
    @Param({"64", "1024"})
    public int tokens;

    /**
     * The projection's width (4096, Llama-2-7B's q_proj); the smoke mode (CUDA emulator) passes a
     * small one.
     */
    @Param("4096")
    public int hidden;

    private CudaLoraBackend backend;
    private CublasHandle blas;
    private DeviceBuffer weight;
    private DeviceBuffer x;
    private DeviceBuffer y;
    private AdapterPool pool;
    private List<Segment> segments;

    @Setup(Level.Trial)
    public void setUp() {
        backend = CudaLoraBackend.open(0);
        blas = Cublas.load().createHandle(backend.stream());
        weight = backend.context().allocate((long) hidden * hidden * 2);
        x = backend.context().allocate((long) tokens * hidden * 2);
        y = backend.context().allocate((long) tokens * hidden * 2);
        weight.fill((byte) 0x21);
        x.fill((byte) 0x21);
        y.fill((byte) 0);
        List<WeightSpec> base = base(hidden);
        pool = backend.newAdapterPool(base, Precision.F16, Long.MAX_VALUE);
        segments = loadAdapters(pool, tokens, base);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        blas.close();
        weight.close();
        x.close();
        y.close();
        backend.close();
    }

    @Benchmark
    public void loraApply() {
        pool.apply(
                WEIGHT,
                new DeviceActivations(x, Precision.F16, tokens, hidden),
                new DeviceActivations(y, Precision.F16, tokens, hidden),
                segments);
        backend.synchronize();
    }

    /**
     * Row-major y (tokens×out) = x (tokens×in) · Wᵀ: column-major yᶜ(out×tokens) = op_T(Wᶜ(in×out))
     * · xᶜ(in×tokens).
     */
    @Benchmark
    public void mergedMatmul() {
        blas.gemmEx(
                CublasOperation.T,
                CublasOperation.N,
                hidden,
                tokens,
                hidden,
                1.0,
                new DeviceMatrix(weight, CudaDataType.R_16F, hidden),
                new DeviceMatrix(x, CudaDataType.R_16F, hidden),
                0.0,
                new DeviceMatrix(y, CudaDataType.R_16F, hidden),
                CublasComputeType.COMPUTE_32F);
        backend.synchronize();
    }
}
