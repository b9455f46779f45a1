package dev.safeload.bench.lora;

import dev.safeload.lora.CpuLoraBackend;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.MergePlan;
import dev.safeload.lora.MergeTarget;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * CPU merge of {@code layers} 7B-shaped layers (7 weights each, 404 MB per layer in F16) with a
 * rank-16 adapter, in place, against the memory ceiling for the same bytes measured in the same
 * run: a pass that reads every weight row and writes it back unchanged, on the same number of
 * threads ({@code readWriteCeiling}). Merge moves those same bytes (read W, write W) plus the
 * fp16↔fp32 conversion and rank-k FMA work; {@code merge / readWriteCeiling} is the figure.
 *
 * <p>The merge alternates +adapter and −adapter so the weights stay bounded over many iterations.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 6, time = 3)
@Fork(
        value = 1,
        jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx3g"})
@State(Scope.Benchmark)
public class CpuMergeBenchmark {
    @Param("1")
    public int layers;

    @Param("16")
    public int rank;

    @Param({"F16", "BF16"})
    public DType dtype;

    /** Worker threads; 0 = one per processor. */
    @Param("0")
    public int threads;

    private Arena arena;
    private CpuLoraBackend backend;
    private ExecutorService ceilingThreads;
    private int parallelism;
    private final List<MemorySegment> segments = new ArrayList<>();
    private final List<WeightBuffer> weights = new ArrayList<>();
    private MergePlan plus;
    private MergePlan minus;
    private boolean positive;

    @Setup(Level.Trial)
    public void setUp() {
        parallelism = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        backend = new CpuLoraBackend(parallelism);
        ceilingThreads = Executors.newFixedThreadPool(parallelism);
        arena = Arena.ofShared();
        List<WeightSpec> specs = SevenBLayers.specs(layers, dtype);
        for (WeightSpec s : specs) {
            MemorySegment seg = arena.allocate(s.elementCount() * 2, 64);
            seg.fill((byte) 0x21); // 0x2121: a normal F16 (0.0104) and BF16 (5.5e-19) value
            segments.add(seg);
            weights.add(backend.wrap(s, seg));
        }
        LoraAdapter adapter = SevenBLayers.adapter(specs, rank, 42);
        plus = MergePlan.of(specs, adapter, 1.0);
        minus = MergePlan.of(specs, adapter, -1.0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
        ceilingThreads.shutdownNow();
        arena.close();
    }

    @Benchmark
    public void merge() {
        MergePlan plan = positive ? plus : minus;
        positive = !positive;
        for (WeightBuffer w : weights) {
            MergeTarget t = plan.target(w.spec().name());
            backend.merge(w, t);
        }
    }

    /**
     * Reads every row of every weight into a heap array and writes it back: the bytes merge must
     * move.
     */
    @Benchmark
    public void readWriteCeiling() throws Exception {
        for (int i = 0; i < segments.size(); i++) {
            MemorySegment seg = segments.get(i);
            int cols = Math.toIntExact(weights.get(i).spec().shape()[1]);
            int rows = Math.toIntExact(weights.get(i).spec().shape()[0]);
            List<Future<?>> futures = new ArrayList<>();
            int blocks = parallelism * 4;
            for (int b = 0; b < blocks; b++) {
                int from = rows * b / blocks;
                int to = rows * (b + 1) / blocks;
                futures.add(
                        ceilingThreads.submit(
                                () -> {
                                    short[] row = new short[cols];
                                    for (int r = from; r < to; r++) {
                                        MemorySegment.copy(
                                                seg,
                                                ValueLayout.JAVA_SHORT_UNALIGNED,
                                                (long) r * cols * 2,
                                                row,
                                                0,
                                                cols);
                                        MemorySegment.copy(
                                                row,
                                                0,
                                                seg,
                                                ValueLayout.JAVA_SHORT_UNALIGNED,
                                                (long) r * cols * 2,
                                                cols);
                                    }
                                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
    }

    /** Bytes one operation reads plus writes (for GB/s in the report). */
    public static long bytesMoved(int layers) {
        return 2 * SevenBLayers.bytes(SevenBLayers.specs(layers, DType.F16), 2);
    }
}
