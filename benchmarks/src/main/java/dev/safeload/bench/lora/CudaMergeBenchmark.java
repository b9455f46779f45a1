package dev.safeload.bench.lora;

import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.lora.CudaLoraBackend;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.MergePlan;
import dev.safeload.lora.WeightBuffer;
import dev.safeload.lora.WeightSpec;
import dev.safeload.safetensors.DType;

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

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * GPU merge of a whole 7B-shaped set (32 layers × 7 weights, 12.9 GB in F16) with a rank-16
 * adapter, in place on device weights (needs a GPU; benchmarks/gpu/run.sh). Rows:
 *
 * <ul>
 *   <li>{@code mergeResident}: factors already on the device ({@code prepare}): one cublasGemmEx
 *       with beta = 1 per weight, all queued, one sync at the end. Moves read W + write W.
 *   <li>{@code mergeWithUpload}: the same, the factors converted and uploaded through pinned
 *       staging in the same queue (what a first merge of a new adapter costs).
 *   <li>{@code deviceCopyCeiling}: a device-to-device copy of every weight into a scratch buffer:
 *       the same bytes read and written, the HBM ceiling measured in the same run.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 8, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx8g"})
@State(Scope.Benchmark)
public class CudaMergeBenchmark {
    @Param("32")
    public int layers;

    @Param("16")
    public int rank;

    @Param({"F16", "BF16"})
    public DType dtype;

    /** Llama-2-7B's widths; the GPU scripts' smoke mode (CUDA emulator) passes small ones. */
    @Param("4096")
    public int hidden;

    @Param("11008")
    public int mlp;

    private CudaLoraBackend backend;
    private final List<WeightBuffer> weights = new ArrayList<>();
    private DeviceBuffer scratch;
    private MergePlan plus;
    private MergePlan minus;
    private MergePlan plusCold;
    private MergePlan minusCold;
    private boolean positive;

    @Setup(Level.Trial)
    public void setUp() {
        backend = CudaLoraBackend.open(0);
        List<WeightSpec> specs = SevenBLayers.specs(layers, dtype, hidden, mlp);
        long largest = 0;
        for (WeightSpec s : specs) {
            DeviceBuffer buffer = backend.context().allocate(s.elementCount() * 2);
            buffer.fill((byte) 0x21);
            weights.add(backend.wrap(s, buffer));
            largest = Math.max(largest, buffer.byteSize());
        }
        scratch = backend.context().allocate(largest);
        LoraAdapter adapter = SevenBLayers.adapter(specs, rank, 42);
        plus = MergePlan.of(specs, adapter, 1.0);
        minus = MergePlan.of(specs, adapter, -1.0);
        plusCold = MergePlan.of(specs, adapter, 1.0);
        minusCold = MergePlan.of(specs, adapter, -1.0);
        backend.prepare(plus);
        backend.prepare(minus);
        backend.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (WeightBuffer w : weights) {
            CudaLoraBackend.buffer(w).close();
        }
        scratch.close();
        backend.close();
    }

    private void mergeAll(MergePlan plan) {
        for (WeightBuffer w : weights) {
            backend.merge(w, plan.target(w.spec().name()));
        }
        backend.synchronize();
    }

    @Benchmark
    public void mergeResident() {
        positive = !positive;
        mergeAll(positive ? plus : minus);
    }

    @Benchmark
    public void mergeWithUpload() {
        positive = !positive;
        mergeAll(positive ? plusCold : minusCold);
    }

    @Benchmark
    public void deviceCopyCeiling() {
        for (WeightBuffer w : weights) {
            DeviceBuffer source = CudaLoraBackend.buffer(w);
            scratch.view(0, source.byteSize()).copyFromDeviceAsync(source, 0, backend.stream());
        }
        backend.synchronize();
    }
}
