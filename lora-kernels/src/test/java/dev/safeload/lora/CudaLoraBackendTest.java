package dev.safeload.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.lora.internal.Numerics;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA backend against the CPU reference and fp64. Skipped (visibly) without a GPU; the
 * condition is on the class so that no CUDA fixture is even constructed there.
 */
@Tag("gpu")
@EnabledIf(value = "gpu", disabledReason = "no CUDA device or no cuBLAS on this machine")
class CudaLoraBackendTest {
    private static CudaLoraBackend cuda;
    private static CpuLoraBackend cpu;

    static boolean gpu() {
        return CudaLoraBackend.available();
    }

    @BeforeAll
    static void open() {
        cuda = CudaLoraBackend.open(0);
        cpu = new CpuLoraBackend(2);
    }

    @AfterAll
    static void close() {
        if (cuda != null) {
            cuda.close();
        }
        if (cpu != null) {
            cpu.close();
        }
    }

    private static float[] mergeOn(LoraBackend b, Fixtures.Weight w, MergePlan plan) {
        try (WeightBuffer buf = b.load(w.spec(), w.bytes())) {
            b.merge(buf, plan.target(w.spec().name()));
            byte[] out = new byte[Math.toIntExact(buf.byteSize())];
            b.read(buf, MemorySegment.ofArray(out));
            return Numerics.decode(MemorySegment.ofArray(out), buf.precision());
        }
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void mergeMatchesCpuAndFp64(Precision p) {
        Fixtures f = new Fixtures();
        int in = 512 + f.random.nextInt(300);
        int out = 256 + f.random.nextInt(300);
        String module = "model.layers.0.mlp.up_proj";
        Fixtures.Weight w = f.weight(module + ".weight", p, out, in);
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear(module, 16, in, out, p),
                        Fixtures.config(16, 32, ""),
                        Map.of(),
                        "a");
        LoraAdapter b =
                LoraAdapter.fromTensors(
                        f.peftLinear(module, 8, in, out, p),
                        Fixtures.config(8, 8, ""),
                        Map.of(),
                        "b");
        MergePlan plan =
                MergePlan.builder(List.of(w.spec()))
                        .add(a, 0.6)
                        .add(b, 1.5)
                        .globalScale(0.9)
                        .build();
        double[] ref = Fixtures.widen(w.values());
        Fixtures.add(ref, Fixtures.delta(a.modules().getFirst(), 0.9 * 0.6 * 2));
        Fixtures.add(ref, Fixtures.delta(b.modules().getFirst(), 0.9 * 1.5));
        float[] gpu = mergeOn(cuda, w, plan);
        float[] host = mergeOn(cpu, w, plan);
        cuda.prepare(plan); // factors resident on the device: the same GEMM, without staging
        assertArrayEquals(gpu, mergeOn(cuda, w, plan), "prepared merge" + f.seedText());
        cuda.release(plan);
        assertTrue(
                Fixtures.relativeError(gpu, ref) < Fixtures.tolerance(p),
                p + " vs fp64" + f.seedText());
        double[] hostRef = Fixtures.widen(host);
        assertTrue(
                Fixtures.maxError(gpu, hostRef) < Fixtures.tolerance(p),
                p + " vs CPU" + f.seedText());
    }

    @Test
    void transposedConvAndDoraTargetsMatchCpu() {
        Fixtures f = new Fixtures();
        Precision p = Precision.F16;
        Fixtures.Weight conv = f.weight("unet.conv.weight", p, 64, 32, 3, 3);
        Map<String, AdapterTensor> t = new LinkedHashMap<>();
        t.put("base_model.model.unet.conv.lora_A.weight", f.tensor(p, 0.1, 4, 32, 3, 3));
        t.put("base_model.model.unet.conv.lora_B.weight", f.tensor(p, 0.1, 64, 4, 1, 1));
        Fixtures.Weight c1d = f.weight("h.0.attn.c_attn.weight", p, 96, 288);
        Map<String, AdapterTensor> g = f.peftLinear("transformer.h.0.attn.c_attn", 8, 96, 288, p);
        g.put(
                "base_model.model.transformer.h.0.attn.c_attn.lora_magnitude_vector",
                f.tensor(Precision.F32, 1, 288));
        for (var pair :
                List.of(
                        Map.entry(conv, LoraAdapter.fromTensors(t, null, Map.of(), "conv")),
                        Map.entry(
                                c1d,
                                LoraAdapter.fromTensors(
                                        g,
                                        Fixtures.config(
                                                8,
                                                16,
                                                "\"fan_in_fan_out\": true, \"use_dora\": true"),
                                        Map.of(),
                                        "gpt2")))) {
            MergePlan plan = MergePlan.of(List.of(pair.getKey().spec()), pair.getValue(), 1.0);
            float[] gpu = mergeOn(cuda, pair.getKey(), plan);
            float[] host = mergeOn(cpu, pair.getKey(), plan);
            assertTrue(
                    Fixtures.maxError(gpu, Fixtures.widen(host)) < 1e-3,
                    pair.getValue().source() + f.seedText());
        }
    }

    @Test
    void keptOriginalRestoresBitExactOnDevice() {
        Fixtures f = new Fixtures();
        Fixtures.Weight w = f.weight("m.q.weight", Precision.BF16, 128, 128);
        LoraAdapter a =
                LoraAdapter.fromTensors(
                        f.peftLinear("m.q", 8, 128, 128, Precision.BF16), null, Map.of(), "a");
        MergePlan plan = MergePlan.of(List.of(w.spec()), a, 1.0);
        byte[] original = w.bytes().toArray(ValueLayout.JAVA_BYTE);
        try (WeightBuffer buf = cuda.load(w.spec(), w.bytes());
                LoraMerger merger = new LoraMerger(cuda, plan, true)) {
            merger.merge(Map.of(w.spec().name(), buf));
            merger.unmerge();
            byte[] back = new byte[original.length];
            cuda.read(buf, MemorySegment.ofArray(back));
            assertArrayEquals(original, back, f.seedText());
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Precision.class,
            names = {"F16", "BF16"})
    void servingPoolMatchesCpuPool(Precision p) {
        Fixtures f = new Fixtures();
        String q = CpuAdapterPoolTest.Q;
        List<WeightSpec> base = CpuAdapterPoolTest.base(p);
        int in = CpuAdapterPoolTest.IN;
        int out = CpuAdapterPoolTest.OUT;
        int rows = 70;
        float[] x = f.values((long) rows * in, 1, p);
        float[] y = f.values((long) rows * out, 1, p);
        List<Segment> segments =
                List.of(new Segment("a", 0, 33, 1f), new Segment("b", 40, 30, 0.5f));
        Map<String, LoraAdapter> adapters =
                Map.of(
                        "a",
                        CpuAdapterPoolTest.adapter(f, 4, 8, q),
                        "b",
                        CpuAdapterPoolTest.adapter(f, 32, 16, q));
        byte[] yHost = Numerics.encode(y, p);
        try (AdapterPool pool = cuda.newAdapterPool(base, p, 1 << 22);
                DeviceBuffer xd = cuda.context().allocate((long) rows * in * p.byteSize());
                DeviceBuffer yd = cuda.context().allocate((long) rows * out * p.byteSize())) {
            adapters.forEach(pool::load);
            xd.copyFromHost(MemorySegment.ofArray(Numerics.encode(x, p)), 0);
            yd.copyFromHost(MemorySegment.ofArray(yHost), 0);
            pool.apply(
                    q + ".weight",
                    new DeviceActivations(xd, p, rows, in),
                    new DeviceActivations(yd, p, rows, out),
                    segments);
            cuda.synchronize();
            yd.copyToHost(0, MemorySegment.ofArray(yHost));
        }
        double[] ref = CpuAdapterPoolTest.reference(x, y, rows, segments, adapters);
        float[] got = Numerics.decode(MemorySegment.ofArray(yHost), p);
        assertTrue(Fixtures.relativeError(got, ref) < Fixtures.tolerance(p), p + f.seedText());
        assertEquals(
                y[35 * out], got[35 * out], "rows outside segments are untouched" + f.seedText());
    }
}
