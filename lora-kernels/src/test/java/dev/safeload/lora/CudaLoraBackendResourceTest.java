package dev.safeload.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cuda.CudaContext;
import dev.safeload.cuda.CudaError;
import dev.safeload.cuda.CudaException;
import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.cuda.LeakDetector;
import dev.safeload.lora.internal.Numerics;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the CUDA backend holds over time and after failures: staging stays bounded over an unbounded
 * run of calls, a failed call leaves nothing allocated, and closing frees everything, pools
 * included. Every test ends with exactly the CUDA resources it started with (LeakDetector).
 */
@Tag("gpu")
@EnabledIf(value = "gpu", disabledReason = "no CUDA device or no cuBLAS on this machine")
class CudaLoraBackendResourceTest {
    private static final String Q = CpuAdapterPoolTest.Q;
    private static final int IN = CpuAdapterPoolTest.IN;
    private static final int OUT = CpuAdapterPoolTest.OUT;

    /** Tiny staging rings, so that a few hundred calls go round them many times. */
    private static final long CHUNK = 4096;

    private static final int RING = 3;
    private static CudaContext context;
    private static CpuLoraBackend cpu;
    private List<String> openBefore;

    static boolean gpu() {
        return CudaLoraBackend.available();
    }

    @BeforeAll
    static void open() {
        context = CudaContext.open(0);
        cpu = new CpuLoraBackend(2);
    }

    @AfterAll
    static void close() {
        if (context != null) {
            context.close();
        }
        if (cpu != null) {
            cpu.close();
        }
    }

    @BeforeEach
    void recordOpenResources() {
        openBefore = sorted(LeakDetector.open());
    }

    @AfterEach
    void nothingLeftOpen() {
        assertEquals(openBefore, sorted(LeakDetector.open()), "CUDA resources left open");
    }

    private static List<String> sorted(List<String> l) {
        List<String> s = new ArrayList<>(l);
        s.sort(null);
        return s;
    }

    @Test
    void servingLoopWithoutSynchronizeKeepsStagingBounded() {
        Fixtures f = new Fixtures();
        Precision p = Precision.F16;
        int rows = 600; // one apply per row, so that each row's result checks one apply
        float[] x = f.values((long) rows * IN, 1, p);
        float[] y = f.values((long) rows * OUT, 1, p);
        Map<String, LoraAdapter> adapters =
                Map.of(
                        "a",
                        CpuAdapterPoolTest.adapter(f, 4, 8, Q),
                        "b",
                        CpuAdapterPoolTest.adapter(f, 16, 16, Q));
        List<Segment> all = new ArrayList<>();
        byte[] yHost = Numerics.encode(y, p);
        try (CudaLoraBackend cuda = CudaLoraBackend.in(context, CHUNK, RING);
                AdapterPool pool = cuda.newAdapterPool(CpuAdapterPoolTest.base(p), p, 1 << 20);
                DeviceBuffer xd = context.allocate((long) rows * IN * p.byteSize());
                DeviceBuffer yd = context.allocate((long) rows * OUT * p.byteSize())) {
            adapters.forEach(pool::load);
            xd.copyFromHost(MemorySegment.ofArray(Numerics.encode(x, p)), 0);
            yd.copyFromHost(MemorySegment.ofArray(yHost), 0);
            DeviceActivations xa = new DeviceActivations(xd, p, rows, IN);
            DeviceActivations ya = new DeviceActivations(yd, p, rows, OUT);
            long free = -1;
            long mostStaged = 0;
            for (int row = 0; row < rows; row++) {
                Segment s =
                        new Segment(row % 3 == 0 ? "b" : "a", row, 1, row % 2 == 0 ? 1f : -0.5f);
                all.add(s);
                pool.apply(
                        Q + ".weight",
                        xa,
                        ya,
                        List.of(s)); // 6 pointer arrays of >= 256 B staged per call
                mostStaged = Math.max(mostStaged, cuda.stagingArena().reservedBytes());
                if (row == 0) {
                    free = context.memoryInfo().free();
                }
            }
            assertTrue(
                    mostStaged <= RING * CHUNK,
                    "staging grew to " + mostStaged + " bytes, the ring holds " + RING * CHUNK);
            long grown =
                    free
                            - context.memoryInfo()
                                    .free(); // the first apply took the scratch and one chunk
            assertTrue(
                    grown <= (RING - 1) * CHUNK,
                    "device memory grew by " + grown + " bytes after the first apply");
            cuda.synchronize();
            yd.copyToHost(0, MemorySegment.ofArray(yHost));
        }
        double[] ref = CpuAdapterPoolTest.reference(x, y, rows, all, adapters);
        float[] got = Numerics.decode(MemorySegment.ofArray(yHost), p);
        assertTrue(
                Fixtures.relativeError(got, ref) < Fixtures.tolerance(p),
                "pointer arrays reused too early?" + f.seedText());
    }

    @Test
    void mergesQueuedWithoutSynchronizeKeepStagingBounded() {
        Fixtures f = new Fixtures();
        Fixtures.Weight w = f.weight("m.q.weight", Precision.F32, 32, 32);
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear("m.q", 8, 32, 32, Precision.F32), null, Map.of(), "a");
        MergePlan plan = MergePlan.of(List.of(w.spec()), a, 1.0);
        MergeTarget target = plan.target(w.spec().name());
        float[] expected = new float[32 * 32];
        try (WeightBuffer merged = cpu.load(w.spec(), w.bytes())) {
            cpu.merge(merged, target);
            cpu.read(merged, MemorySegment.ofArray(expected));
        }
        float[] got = new float[32 * 32];
        try (CudaLoraBackend cuda = CudaLoraBackend.in(context, CHUNK, RING);
                WeightBuffer buf = cuda.load(w.spec(), w.bytes())) {
            long mostStaged = 0;
            for (int i = 0; i < 150; i++) { // each merge and unmerge stages two 1 KiB factors
                cuda.merge(buf, target);
                cuda.unmerge(buf, target);
                mostStaged = Math.max(mostStaged, cuda.stagingArena().reservedBytes());
            }
            cuda.merge(buf, target);
            assertTrue(
                    mostStaged <= RING * CHUNK,
                    "staging grew to " + mostStaged + " bytes, the ring holds " + RING * CHUNK);
            cuda.read(buf, MemorySegment.ofArray(got));
        }
        assertTrue(
                Fixtures.maxError(got, Fixtures.widen(expected)) < 1e-4,
                "150 merge/unmerge pairs, then a merge" + f.seedText());
    }

    /**
     * prepare() runs out of device memory for the second factor, or (with both factors allocated)
     * for the staging chunk that would fill them: it throws, frees what it took, and the plan still
     * merges correctly afterwards (no step is left resident with factors never copied in).
     */
    @ParameterizedTest
    @ValueSource(strings = {"right factor", "staging"})
    void prepareOutOfMemoryLeavesNothingBehind(String failing) {
        Fixtures f = new Fixtures();
        int n = 16;
        int rank = 1 << 16; // 16×65536 F32 factors: 4 MiB each (whole 2 MiB pages on a real
        // GPU), a cheap 16×16 merge
        long factorBytes = (long) n * rank * Float.BYTES;
        Fixtures.Weight w = f.weight("m.v.weight", Precision.F32, n, n);
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear("m.v", rank, n, n, Precision.F32),
                        Fixtures.config(rank, rank, ""),
                        Map.of(),
                        "wide");
        MergePlan plan = MergePlan.of(List.of(w.spec()), a, 1.0);
        float[] expected = merged(cpu, w, plan);
        try (CudaLoraBackend cuda =
                CudaLoraBackend.in(context)) { // a fresh staging arena: no chunk yet
            long before = context.memoryInfo().free();
            // Leave room for the left factor and half the right, or for both factors but no staging
            // chunk.
            long room =
                    failing.equals("right factor")
                            ? factorBytes + factorBytes / 2
                            : 2 * factorBytes + factorBytes / 4;
            try (DeviceBuffer filler = context.allocate(before - room)) {
                CudaException e = assertThrows(CudaException.class, () -> cuda.prepare(plan));
                assertEquals(CudaError.CUDA_ERROR_OUT_OF_MEMORY, e.kind(), e.getMessage());
            }
            assertEquals(
                    before, context.memoryInfo().free(), "device memory after the failed prepare");
            assertTrue(
                    Fixtures.maxError(merged(cuda, w, plan), Fixtures.widen(expected)) < 1e-3,
                    "merge after the failed prepare" + f.seedText());
            cuda.prepare(plan); // and with the memory back, prepare works
            assertTrue(
                    Fixtures.maxError(merged(cuda, w, plan), Fixtures.widen(expected)) < 1e-3,
                    "prepared merge" + f.seedText());
            cuda.release(plan);
        }
    }

    private static float[] merged(LoraBackend b, Fixtures.Weight w, MergePlan plan) {
        try (WeightBuffer buf = b.load(w.spec(), w.bytes())) {
            b.merge(buf, plan.target(w.spec().name()));
            float[] out = new float[Math.toIntExact(w.spec().elementCount())];
            b.read(buf, MemorySegment.ofArray(out));
            return out;
        }
    }

    @Test
    void closingTheBackendClosesItsPools() {
        Fixtures f = new Fixtures();
        Precision p = Precision.BF16;
        int rows = 8;
        AdapterPool closedFirst;
        AdapterPool stillOpen;
        try (DeviceBuffer xd = context.allocate((long) rows * IN * p.byteSize());
                DeviceBuffer yd = context.allocate((long) rows * OUT * p.byteSize())) {
            xd.fill((byte) 0);
            yd.fill((byte) 0);
            DeviceActivations x = new DeviceActivations(xd, p, rows, IN);
            DeviceActivations y = new DeviceActivations(yd, p, rows, OUT);
            List<Segment> segments =
                    List.of(new Segment("a", 0, 4, 1f), new Segment("b", 4, 4, 1f));
            CudaLoraBackend cuda = CudaLoraBackend.in(context);
            closedFirst = cuda.newAdapterPool(CpuAdapterPoolTest.base(p), p, 1 << 20);
            closedFirst.load("a", CpuAdapterPoolTest.adapter(f, 4, 4, Q));
            closedFirst.close();
            stillOpen = cuda.newAdapterPool(CpuAdapterPoolTest.base(p), p, 1 << 20);
            stillOpen.load("a", CpuAdapterPoolTest.adapter(f, 4, 4, Q));
            stillOpen.load("b", CpuAdapterPoolTest.adapter(f, 8, 8, Q));
            stillOpen.apply(
                    Q + ".weight", x, y, segments); // queued, with its scratch and pointer arrays
            cuda.close(); // the pool's modules and scratch go with it
            assertEquals(List.of(), stillOpen.loaded());
            assertThrows(
                    IllegalStateException.class,
                    () -> stillOpen.apply(Q + ".weight", x, y, segments));
            stillOpen.close(); // idempotent, and no longer needs the backend's stream
        }
    }

    /**
     * A caller closed the stream the backend handed out: close() still frees everything, then
     * reports that.
     */
    @Test
    void closeFreesEverythingWhenAStepFails() {
        Fixtures f = new Fixtures();
        Fixtures.Weight w = f.weight("m.q.weight", Precision.F16, 64, 64);
        MergePlan plan =
                MergePlan.of(
                        List.of(w.spec()),
                        LoraAdapter.fromTensors(
                                f.peftLinear("m.q", 8, 64, 64, Precision.F16), null, Map.of(), "a"),
                        1.0);
        CudaLoraBackend cuda = CudaLoraBackend.in(context);
        AdapterPool pool =
                cuda.newAdapterPool(CpuAdapterPoolTest.base(Precision.F16), Precision.F16, 1 << 20);
        pool.load("a", CpuAdapterPoolTest.adapter(f, 4, 4, Q));
        cuda.prepare(plan); // resident factors and a staging chunk
        cuda.synchronize();
        cuda.stream().close();
        IllegalStateException e = assertThrows(IllegalStateException.class, cuda::close);
        assertTrue(e.getMessage().contains("CudaStream"), e.toString());
        cuda.close(); // once only
    }
}
