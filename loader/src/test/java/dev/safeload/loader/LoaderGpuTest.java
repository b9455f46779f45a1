package dev.safeload.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cuda.Cuda;
import dev.safeload.cuda.CudaContext;
import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.cuda.LeakDetector;
import dev.safeload.lora.AdapterPool;
import dev.safeload.lora.DeviceActivations;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.LoraException;
import dev.safeload.lora.ModelMerger;
import dev.safeload.lora.Precision;
import dev.safeload.lora.Segment;
import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.TensorView;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The loader on a CUDA device: place, merge on the device buffers, read back, exact unmerge,
 * switching, serving unmerged, and nothing left open after close. Tagged {@code gpu}: skipped
 * without CUDA; {@code mvn verify} runs it again against the CUDA emulator (native/README.md).
 */
@Tag("gpu")
@EnabledIf(value = "cuda", disabledReason = "no CUDA device (see Cuda.unavailableReason())")
class LoaderGpuTest {
    @TempDir Path dir;

    final TinyModels fixtures = new TinyModels(ThreadLocalRandom.current().nextLong());
    final ModelLoader gpu = ModelLoader.builder().device(Device.cuda(0)).build();
    final ModelLoader cpu = ModelLoader.builder().device(Device.cpu()).build();

    static boolean cuda() {
        return Cuda.isAvailable();
    }

    /** Every tensor's bytes read back from the device. */
    static Map<String, byte[]> readBack(LoadedModel model) {
        Map<String, byte[]> out = new HashMap<>();
        for (LoadedTensor t : model.tensors()) {
            byte[] bytes = new byte[(int) t.byteSize()];
            model.read(t.name(), MemorySegment.ofArray(bytes));
            out.put(t.name(), bytes);
        }
        return out;
    }

    /**
     * The device merge against the CPU merge of the same inputs: the device rounds the scaled
     * factors to F16 before its GEMM and sums in its own order, so each element may differ by two
     * F16 steps plus the factors' rounding (2^-11 each) of the tensor's largest delta.
     */
    void assertCloseToCpu(
            Map<String, byte[]> base, Map<String, byte[]> cpuMerged, Map<String, byte[]> got) {
        assertEquals(cpuMerged.keySet(), got.keySet());
        for (String name : cpuMerged.keySet()) {
            if (name.equals(TinyModels.INT_TENSOR)) {
                assertArrayEquals(cpuMerged.get(name), got.get(name));
                continue;
            }
            float[] w = f16(base.get(name));
            float[] want = f16(cpuMerged.get(name));
            float[] have = f16(got.get(name));
            double largestDelta = 0;
            for (int i = 0; i < want.length; i++) {
                largestDelta = Math.max(largestDelta, Math.abs(want[i] - w[i]));
            }
            for (int i = 0; i < want.length; i++) {
                double bound =
                        2 * LoaderCpuTest.f16Step(Math.max(Math.abs(want[i]), Math.abs(have[i])))
                                + 0x1p-9 * largestDelta;
                assertEquals(want[i], have[i], bound, name + " element " + i + fixtures.seedText());
            }
        }
    }

    static float[] f16(byte[] bytes) {
        return TensorView.of(
                        "t", DType.F16, new long[] {bytes.length / 2}, MemorySegment.ofArray(bytes))
                .toFloatArray();
    }

    @Test
    void placeMergeReadBackUnmergeAndRestoreExactly() {
        Path model = fixtures.model(dir.resolve("m"), DType.F16, true);
        Map<String, byte[]> original = LoaderCpuTest.bytesOf(model);
        LoraAdapter adapter =
                LoraAdapter.read(
                        fixtures.peft(
                                dir.resolve("a"),
                                8,
                                16,
                                List.of("q_proj", "v_proj", "up_proj"),
                                DType.F16,
                                true));
        Map<String, byte[]> cpuMerged;
        try (LoadedModel onCpu = cpu.load(ModelRef.local(model))) {
            onCpu.adapters().merge(adapter, 0.5);
            cpuMerged = LoaderCpuTest.bytesOf(onCpu);
        }
        try (LoadedModel loaded = gpu.load(ModelRef.local(model))) {
            assertEquals(Device.cuda(0), loaded.device());
            LoadedTensor q = loaded.tensor("model.layers.0.self_attn.q_proj.weight");
            CudaTensor c = assertInstanceOf(CudaTensor.class, q);
            assertEquals(0, c.address() % 256);
            assertEquals(loaded.report().bytes(), loaded.report().bytesCopied(), "each byte once");
            LoaderCpuTest.assertSameTensors(
                    original, readBack(loaded), "placed" + fixtures.seedText());

            MergedAdapters merged = loaded.adapters().merge(adapter, 0.5);
            assertTrue(merged.exact());
            assertCloseToCpu(original, cpuMerged, readBack(loaded));
            merged.unmerge();
            LoaderCpuTest.assertSameTensors(
                    original, readBack(loaded), "restored" + fixtures.seedText());

            Path saved = dir.resolve("saved");
            loaded.adapters().merge(adapter, 0.5);
            loaded.save(saved);
            assertCloseToCpu(original, cpuMerged, LoaderCpuTest.bytesOf(saved));
        }
    }

    @Test
    void switchingAdaptersOnTheDeviceAndMisfitsChangeNothing() {
        Path model = fixtures.model(dir.resolve("m"), DType.F16, false);
        Map<String, byte[]> original = LoaderCpuTest.bytesOf(model);
        LoraAdapter a =
                LoraAdapter.read(
                        fixtures.peft(
                                dir.resolve("a"),
                                4,
                                4,
                                List.of("q_proj", "k_proj"),
                                DType.F16,
                                false));
        LoraAdapter b =
                LoraAdapter.read(
                        fixtures.peft(
                                dir.resolve("b"),
                                2,
                                4,
                                List.of("k_proj", "down_proj"),
                                DType.F32,
                                false));
        Map<String, byte[]> cpuB;
        try (LoadedModel onCpu = cpu.load(ModelRef.local(model))) {
            onCpu.adapters().merge(b);
            cpuB = LoaderCpuTest.bytesOf(onCpu);
        }
        try (LoadedModel loaded = gpu.load(ModelRef.local(model))) {
            loaded.adapters().merge(a);
            Map<String, byte[]> withA = readBack(loaded);
            LoraAdapter misfit = LoraAdapter.read(fixtures.wrongShape(dir.resolve("bad")));
            assertThrows(LoraException.class, () -> loaded.adapters().merge(misfit));
            LoaderCpuTest.assertSameTensors(withA, readBack(loaded), "after a misfit");

            MergedAdapters toB =
                    loaded.adapters()
                            .switchTo(
                                    List.of(new ModelMerger.WeightedAdapter(b, 1.0)),
                                    Unmerge.EXACT);
            assertEquals(List.of(toB), loaded.adapters().merged());
            assertCloseToCpu(original, cpuB, readBack(loaded));
            loaded.adapters().unmergeAll();
            LoaderCpuTest.assertSameTensors(
                    original, readBack(loaded), "all out" + fixtures.seedText());
        }
    }

    @Test
    void servesUnmergedAdaptersFromTheSameDeviceWeights() {
        Path model = fixtures.model(dir.resolve("m"), DType.F16, true);
        LoraAdapter a =
                LoraAdapter.read(
                        fixtures.peft(dir.resolve("a"), 4, 8, List.of("q_proj"), DType.F16, false));
        String q = "model.layers.1.self_attn.q_proj.weight";
        int tokens = 4;
        int h = TinyModels.HIDDEN;
        short[] x = new short[tokens * h];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(fixtures.seed);
        for (int i = 0; i < x.length; i++) {
            x[i] = Float.floatToFloat16((float) (rnd.nextDouble() - 0.5));
        }
        float[] base;
        float[] merged;
        try (LoadedModel onCpu = cpu.load(ModelRef.local(model))) {
            base = ((HostTensor) onCpu.tensor(q)).view().toFloatArray();
            onCpu.adapters().merge(a);
            merged = ((HostTensor) onCpu.tensor(q)).view().toFloatArray();
        }
        float[] xf = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            xf[i] = Float.float16ToFloat(x[i]);
        }
        float[] y0 = LoaderCpuTest.matmul(xf, base, tokens, h, h);
        float[] want = LoaderCpuTest.matmul(xf, merged, tokens, h, h);
        short[] y = new short[y0.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = Float.floatToFloat16(y0[i]);
        }
        try (LoadedModel loaded = gpu.load(ModelRef.local(model));
                CudaContext context = CudaContext.open(0);
                DeviceBuffer xd = context.allocate((long) x.length * 2);
                DeviceBuffer yd = context.allocate((long) y.length * 2)) {
            xd.copyFromHost(MemorySegment.ofArray(x), 0);
            yd.copyFromHost(MemorySegment.ofArray(y), 0);
            AdapterPool pool = loaded.adapters().pool(1 << 20);
            pool.load("a", a);
            pool.apply(
                    q,
                    new DeviceActivations(xd, Precision.F16, tokens, h),
                    new DeviceActivations(yd, Precision.F16, tokens, h),
                    List.of(new Segment("a", 0, tokens, 1f)));
            loaded.synchronize();
            short[] got = new short[y.length];
            yd.copyToHost(0, MemorySegment.ofArray(got));
            for (int i = 0; i < got.length; i++) {
                float g = Float.float16ToFloat(got[i]);
                // F16 activations and a rank-k intermediate rounded to F16: a few F16 steps of y.
                assertEquals(
                        want[i],
                        g,
                        4 * LoaderCpuTest.f16Step(Math.abs(want[i])) + 2e-3,
                        "y " + i + fixtures.seedText());
            }
        }
    }

    @Test
    void closingTheModelFreesEveryBufferItMade() {
        Path model = fixtures.model(dir.resolve("m"), DType.F16, true);
        LoraAdapter adapter =
                LoraAdapter.read(
                        fixtures.peft(dir.resolve("a"), 4, 8, List.of("q_proj"), DType.F16, true));
        LoraAdapter served =
                LoraAdapter.read(
                        fixtures.peft(dir.resolve("s"), 2, 2, List.of("v_proj"), DType.F16, false));
        List<String> before = LeakDetector.open();
        LoadedModel loaded = gpu.load(ModelRef.local(model));
        loaded.adapters().merge(adapter);
        loaded.adapters().pool(1 << 20).load("s", served);
        assertTrue(LeakDetector.open().size() > before.size(), "the model holds device memory");
        loaded.close();
        assertEquals(before, LeakDetector.open(), "nothing the model made stays open");
        assertFalse(((CudaTensor) loaded.tensor("lm_head.weight")).buffer().isOpen());
        assertThrows(
                IllegalStateException.class,
                () -> ((CudaTensor) loaded.tensor("lm_head.weight")).address());
        byte[] head = new byte[(int) loaded.tensor("lm_head.weight").byteSize()];
        assertThrows(
                IllegalStateException.class,
                () -> loaded.read("lm_head.weight", MemorySegment.ofArray(head)));
    }
}
