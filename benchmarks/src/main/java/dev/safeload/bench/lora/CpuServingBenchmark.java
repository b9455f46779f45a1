package dev.safeload.bench.lora;

import dev.safeload.lora.AdapterPool;
import dev.safeload.lora.CpuLoraBackend;
import dev.safeload.lora.HostActivations;
import dev.safeload.lora.Precision;
import dev.safeload.lora.Segment;

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
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Serving without merging on the CPU: a batch of {@code tokens} rows of one 4096×4096 F16
 * projection split evenly over {@code adapters} rank-16 adapters ({@code loraApply}: the added
 * {@code y += s·(x·Aᵀ)·Bᵀ} per segment) against the matmul every request pays anyway with merged
 * weights ({@code mergedMatmul}: {@code y = x·Wᵀ} in fp32 on the same threads, a blocked kernel
 * whose inner loop is a four-way axpy the JIT vectorises, like the LoRA kernels'). Overhead =
 * loraApply / mergedMatmul.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 6, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@State(Scope.Benchmark)
public class CpuServingBenchmark extends ServingBatch {
    @Param("64")
    public int tokens;

    private CpuLoraBackend backend;
    private ExecutorService threads;
    private int parallelism;
    private Arena arena;
    private AdapterPool pool;

    /**
     * Wᵀ cut into column blocks: blocks[b][i] = W[b·BLOCK .. (b+1)·BLOCK)[i], each its own array.
     */
    private float[][][] blocks;

    static final int BLOCK = 256;
    private HostActivations x;
    private HostActivations y;
    private List<Segment> segments;

    @Setup(Level.Trial)
    public void setUp() {
        parallelism = Runtime.getRuntime().availableProcessors();
        backend = new CpuLoraBackend(parallelism);
        threads = Executors.newFixedThreadPool(parallelism);
        arena = Arena.ofShared();
        SplittableRandom random = new SplittableRandom(7);
        blocks = new float[HIDDEN / BLOCK][HIDDEN][BLOCK];
        for (float[][] block : blocks) {
            for (float[] column : block) {
                for (int o = 0; o < BLOCK; o++) {
                    column[o] = (float) ((random.nextDouble() - 0.5) * 0.04);
                }
            }
        }
        x = activations(random, tokens);
        y = activations(random, tokens);
        pool = backend.newAdapterPool(BASE, Precision.F16, Long.MAX_VALUE);
        segments = loadAdapters(pool, tokens);
    }

    private HostActivations activations(SplittableRandom random, int rows) {
        MemorySegment seg = arena.allocate((long) rows * HIDDEN * 2, 64);
        for (long i = 0; i < (long) rows * HIDDEN; i++) {
            seg.setAtIndex(
                    ValueLayout.JAVA_SHORT_UNALIGNED,
                    i,
                    Float.floatToFloat16((float) (random.nextDouble() - 0.5)));
        }
        return new HostActivations(seg, Precision.F16, rows, HIDDEN);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        backend.close();
        threads.shutdownNow();
        arena.close();
    }

    @Benchmark
    public void loraApply() {
        pool.apply(WEIGHT, x, y, segments);
    }

    /**
     * {@code y = x·Wᵀ}: per block of 256 outputs, every token's accumulator gets four input columns
     * per pass.
     */
    @Benchmark
    public void mergedMatmul() throws Exception {
        float[][] xs = new float[tokens][HIDDEN];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < HIDDEN; i++) {
                xs[t][i] =
                        Float.float16ToFloat(
                                x.data()
                                        .getAtIndex(
                                                ValueLayout.JAVA_SHORT_UNALIGNED,
                                                (long) t * HIDDEN + i));
            }
        }
        List<Future<?>> futures = new ArrayList<>();
        for (int b = 0; b < blocks.length; b++) {
            int block = b;
            futures.add(threads.submit(() -> outputs(xs, block)));
        }
        for (Future<?> f : futures) {
            f.get();
        }
    }

    private void outputs(float[][] xs, int block) {
        float[][] w = blocks[block];
        float[][] acc = new float[tokens][BLOCK];
        for (int i = 0; i + 4 <= HIDDEN; i += 4) {
            float[] w0 = w[i];
            float[] w1 = w[i + 1];
            float[] w2 = w[i + 2];
            float[] w3 = w[i + 3];
            for (int t = 0; t < tokens; t++) {
                float[] a = acc[t];
                float[] xt = xs[t];
                float c0 = xt[i];
                float c1 = xt[i + 1];
                float c2 = xt[i + 2];
                float c3 = xt[i + 3];
                for (int o = 0; o < BLOCK; o++) {
                    a[o] += c0 * w0[o] + c1 * w1[o] + c2 * w2[o] + c3 * w3[o];
                }
            }
        }
        MemorySegment out = y.data();
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < BLOCK; o++) {
                out.setAtIndex(
                        ValueLayout.JAVA_SHORT_UNALIGNED,
                        (long) t * HIDDEN + block * BLOCK + o,
                        Float.floatToFloat16(acc[t][o]));
            }
        }
    }
}
