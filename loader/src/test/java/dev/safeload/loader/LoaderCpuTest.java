package dev.safeload.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.LoraBackend;
import dev.safeload.lora.LoraBackends;
import dev.safeload.lora.LoraError;
import dev.safeload.lora.LoraException;
import dev.safeload.lora.ModelMerger;
import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.TensorInfo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * The loader on the CPU: place, merge, unmerge, switch, misfits, save, on files the test writes.
 */
class LoaderCpuTest {
    @TempDir Path dir;

    final TinyModels fixtures = new TinyModels(ThreadLocalRandom.current().nextLong());
    final ModelLoader loader = ModelLoader.builder().device(Device.cpu()).hostThreads(3).build();

    /** Every tensor's bytes, by name. */
    static Map<String, byte[]> bytesOf(LoadedModel model) {
        Map<String, byte[]> out = new HashMap<>();
        for (LoadedTensor t : model.tensors()) {
            out.put(t.name(), ((HostTensor) t).segment().toArray(ValueLayout.JAVA_BYTE));
        }
        return out;
    }

    static Map<String, byte[]> bytesOf(Path model) {
        Map<String, byte[]> out = new HashMap<>();
        try (SafetensorsModel m = SafetensorsModel.open(model)) {
            for (TensorInfo t : m.tensors()) {
                out.put(t.name(), m.tensor(t.name()).toByteArray());
            }
        }
        return out;
    }

    static void assertSameTensors(Map<String, byte[]> want, Map<String, byte[]> got, String why) {
        assertEquals(want.keySet(), got.keySet(), why);
        for (String name : want.keySet()) {
            assertArrayEquals(want.get(name), got.get(name), why + ": " + name);
        }
    }

    @Test
    void placesEveryTensorOnceIntoMemoryItOwns() {
        Path model = fixtures.model(dir.resolve("m"), DType.BF16, true);
        LoadedModel loaded = loader.load(model.toString());
        try (loaded) {
            assertEquals(Device.cpu(), loaded.device());
            assertSameTensors(bytesOf(model), bytesOf(loaded), "placed" + fixtures.seedText());
            LoadReport r = loaded.report();
            assertEquals(TinyModels.shapes().size() + 1, r.tensors());
            long bytes = loaded.tensors().stream().mapToLong(LoadedTensor::byteSize).sum();
            assertEquals(bytes, r.bytes());
            assertEquals(bytes, r.bytesCopied(), "each byte copied once");
            assertEquals(
                    List.of(LoadStage.RESOLVE, LoadStage.OPEN, LoadStage.PLACE),
                    r.stages().stream().map(StageTiming::stage).toList());
            assertEquals(bytes, r.stage(LoadStage.PLACE).bytes());
            assertTrue(r.stage(LoadStage.OPEN).bytes() > bytes, "files include their headers");
            assertTrue(r.source().revision().isEmpty());
            for (LoadedTensor t : loaded.tensors()) {
                long offset = ((HostTensor) t).segment().address();
                assertEquals(0, offset % 256, "alignment of " + t.name());
            }
            assertEquals(DType.I32, loaded.tensor(TinyModels.INT_TENSOR).dtype());
        }
        // The model owned the memory: it is gone with the model.
        HostTensor t = (HostTensor) loaded.tensor("lm_head.weight");
        assertThrows(IllegalStateException.class, () -> t.segment().get(ValueLayout.JAVA_BYTE, 0));
        loaded.close(); // idempotent
    }

    @Test
    void savedAfterMergeEqualsLoraMergeForPeftAndKohya() {
        for (boolean sharded : new boolean[] {true, false}) {
            Path model = fixtures.model(dir.resolve("m" + sharded), DType.F16, sharded);
            Path peft =
                    fixtures.peft(
                            dir.resolve("peft" + sharded),
                            4,
                            8,
                            List.of("q_proj", "v_proj", "down_proj"),
                            DType.F16,
                            true);
            Path kohya =
                    fixtures.kohya(
                            dir.resolve("kohya" + sharded + "/k.safetensors"), 2, 3f, DType.F32);
            List<ModelMerger.WeightedAdapter> adapters =
                    List.of(
                            new ModelMerger.WeightedAdapter(LoraAdapter.read(peft), 0.7),
                            new ModelMerger.WeightedAdapter(LoraAdapter.read(kohya), 1.5));
            Path want = dir.resolve("want" + sharded + (sharded ? "" : ".safetensors"));
            try (LoraBackend cpu = LoraBackends.cpu()) {
                ModelMerger.merge(model, adapters, 1.0, cpu, want);
            }
            Path got = dir.resolve("got" + sharded + (sharded ? "" : ".safetensors"));
            try (LoadedModel loaded = loader.load(ModelRef.local(model))) {
                MergedAdapters m = loaded.adapters().merge(adapters, Unmerge.SUBTRACT);
                assertEquals(3 * TinyModels.LAYERS + TinyModels.LAYERS, m.modules());
                assertEquals(1, m.replaced());
                loaded.save(got);
            }
            // The same files, byte for byte: the same tensors, metadata, shards and index.
            for (Path file : files(want)) {
                Path other = got.resolve(want.relativize(file));
                if (!sharded) {
                    other = got;
                }
                assertArrayEquals(read(file), read(other), file + fixtures.seedText());
            }
        }
    }

    @Test
    void exactUnmergeRestoresEveryBitAndSubtractionComesClose() {
        Path model = fixtures.model(dir.resolve("m"), DType.F16, true);
        Map<String, byte[]> original = bytesOf(model);
        LoraAdapter adapter =
                LoraAdapter.read(
                        fixtures.peft(
                                dir.resolve("a"),
                                8,
                                16,
                                List.of("q_proj", "o_proj"),
                                DType.F16,
                                true));
        try (LoadedModel loaded = loader.load(ModelRef.local(model))) {
            MergedAdapters merged = loaded.adapters().merge(adapter);
            assertTrue(merged.exact());
            Map<String, byte[]> after = bytesOf(loaded);
            assertNotEquals(
                    List.of(original.get("model.layers.0.self_attn.q_proj.weight")),
                    List.of(after.get("model.layers.0.self_attn.q_proj.weight")));
            assertFalse(
                    java.util.Arrays.equals(
                            original.get("model.layers.1.self_attn.o_proj.weight"),
                            after.get("model.layers.1.self_attn.o_proj.weight")),
                    "o_proj merged" + fixtures.seedText());
            merged.unmerge();
            assertFalse(merged.isMerged());
            assertSameTensors(original, bytesOf(loaded), "exact unmerge" + fixtures.seedText());
            assertTrue(loaded.adapters().merged().isEmpty());

            MergedAdapters subtracted =
                    loaded.adapters()
                            .merge(
                                    List.of(new ModelMerger.WeightedAdapter(adapter, 1.0)),
                                    Unmerge.SUBTRACT);
            subtracted.unmerge();
            Map<String, byte[]> back = bytesOf(loaded);
            // The replaced lm_head is kept and restored exactly even when subtracting.
            assertArrayEquals(original.get("lm_head.weight"), back.get("lm_head.weight"));
            float[] w =
                    loaded.tensor("model.layers.0.self_attn.q_proj.weight") instanceof HostTensor h
                            ? h.view().toFloatArray()
                            : null;
            float[] w0 = f16(original.get("model.layers.0.self_attn.q_proj.weight"));
            float[] m = f16(after.get("model.layers.0.self_attn.q_proj.weight"));
            for (int i = 0; i < w.length; i++) {
                // round(round(W + d) - d): the two roundings are each within half a step of
                // their result (docs/lora.md 1.6), so W comes back within a step of W and W + d.
                double bound =
                        f16Step(Math.max(Math.abs(w0[i]), Math.abs(w[i]))) / 2 + f16Step(m[i]) / 2;
                assertEquals(w0[i], w[i], bound, "element " + i + fixtures.seedText());
            }
        }
    }

    private static float[] f16(byte[] bytes) {
        return dev.safeload.safetensors.TensorView.of(
                        "w", DType.F16, new long[] {bytes.length / 2}, MemorySegment.ofArray(bytes))
                .toFloatArray();
    }

    @Test
    void switchingGivesWhatAFreshMergeOfTheNewAdapterGives() {
        Path model = fixtures.model(dir.resolve("m"), DType.BF16, false);
        LoraAdapter first =
                LoraAdapter.read(
                        fixtures.peft(
                                dir.resolve("a"),
                                4,
                                4,
                                List.of("q_proj", "k_proj"),
                                DType.BF16,
                                false));
        LoraAdapter second =
                LoraAdapter.read(
                        fixtures.peft(
                                dir.resolve("b"),
                                2,
                                4,
                                List.of("v_proj", "up_proj"),
                                DType.F32,
                                true));
        Map<String, byte[]> fresh;
        try (LoadedModel loaded = loader.load(ModelRef.local(model))) {
            loaded.adapters().merge(second, 0.5);
            fresh = bytesOf(loaded);
        }
        try (LoadedModel loaded = loader.load(ModelRef.local(model))) {
            MergedAdapters a = loaded.adapters().merge(first);
            MergedAdapters b =
                    loaded.adapters()
                            .switchTo(
                                    List.of(new ModelMerger.WeightedAdapter(second, 0.5)),
                                    Unmerge.EXACT);
            assertFalse(a.isMerged());
            assertTrue(b.isMerged());
            assertEquals(List.of(b), loaded.adapters().merged());
            assertSameTensors(fresh, bytesOf(loaded), "after the switch" + fixtures.seedText());

            // A misfit switch changes nothing: the current adapter stays in.
            LoraAdapter misfit = LoraAdapter.read(fixtures.wrongShape(dir.resolve("bad")));
            assertThrows(
                    LoraException.class,
                    () ->
                            loaded.adapters()
                                    .switchTo(
                                            List.of(new ModelMerger.WeightedAdapter(misfit, 1)),
                                            Unmerge.EXACT));
            assertTrue(b.isMerged());
            assertSameTensors(fresh, bytesOf(loaded), "after a refused switch");
        }
    }

    @Test
    void aMisfitLeavesThePlacedModelUnchanged() {
        Path model = fixtures.model(dir.resolve("m"), DType.F16, true);
        Map<String, byte[]> original = bytesOf(model);
        Map<Path, LoraError> misfits =
                Map.of(
                        fixtures.missingModule(dir.resolve("missing")), LoraError.MissingModule,
                        fixtures.wrongShape(dir.resolve("shape")), LoraError.ShapeMismatch,
                        fixtures.wrongDtype(dir.resolve("dtype")), LoraError.WrongDtype);
        try (LoadedModel loaded = loader.load(ModelRef.local(model))) {
            for (Map.Entry<Path, LoraError> m : misfits.entrySet()) {
                LoraAdapter adapter = LoraAdapter.read(m.getKey());
                LoraException e =
                        assertThrows(LoraException.class, () -> loaded.adapters().merge(adapter));
                assertEquals(m.getValue(), e.kind(), e.getMessage());
                assertSameTensors(original, bytesOf(loaded), "after " + m.getValue());
                assertTrue(loaded.adapters().merged().isEmpty());
                // The pool binds adapters by the same rules.
                var pool = loaded.adapters().pool(1 << 20);
                assertThrows(LoraException.class, () -> pool.load("bad", adapter));
                assertTrue(pool.loaded().isEmpty());
            }
        }
    }

    @Test
    void mergesComeOutNewestFirst() {
        Path model = fixtures.model(dir.resolve("m"), DType.F32, false);
        Map<String, byte[]> original = bytesOf(model);
        LoraAdapter a =
                LoraAdapter.read(
                        fixtures.peft(dir.resolve("a"), 4, 4, List.of("q_proj"), DType.F32, false));
        LoraAdapter b =
                LoraAdapter.read(
                        fixtures.peft(dir.resolve("b"), 4, 4, List.of("q_proj"), DType.F32, false));
        try (LoadedModel loaded = loader.load(ModelRef.local(model))) {
            MergedAdapters first = loaded.adapters().merge(a);
            MergedAdapters second = loaded.adapters().merge(b);
            LoaderException e = assertThrows(LoaderException.class, first::unmerge);
            assertEquals(LoaderError.MergeOrder, e.kind());
            assertTrue(first.isMerged());
            second.unmerge();
            first.unmerge();
            assertSameTensors(original, bytesOf(loaded), "both out" + fixtures.seedText());
        }
    }

    @Test
    void unmergedServingAddsWhatMergingWouldHaveAdded() {
        Path model = fixtures.model(dir.resolve("m"), DType.F32, true);
        LoraAdapter a =
                LoraAdapter.read(
                        fixtures.peft(
                                dir.resolve("a"),
                                4,
                                8,
                                List.of("q_proj", "up_proj"),
                                DType.F32,
                                false));
        LoraAdapter b =
                LoraAdapter.read(
                        fixtures.peft(dir.resolve("b"), 2, 2, List.of("q_proj"), DType.F32, false));
        String q = "model.layers.1.self_attn.q_proj.weight";
        String up = "model.layers.0.mlp.up_proj.weight";
        int tokens = 6;
        float[] x = new float[tokens * TinyModels.HIDDEN];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(fixtures.seed);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        // Rows 0-2 use adapter a at 1.0, rows 3-5 adapter b at 0.5; each against its merged model.
        Map<String, float[]> mergedA = new HashMap<>();
        Map<String, float[]> mergedB = new HashMap<>();
        float[] base;
        float[] baseUp;
        try (LoadedModel loaded = loader.load(ModelRef.local(model))) {
            base = ((HostTensor) loaded.tensor(q)).view().toFloatArray();
            baseUp = ((HostTensor) loaded.tensor(up)).view().toFloatArray();
            MergedAdapters m = loaded.adapters().merge(a);
            mergedA.put(q, ((HostTensor) loaded.tensor(q)).view().toFloatArray());
            mergedA.put(up, ((HostTensor) loaded.tensor(up)).view().toFloatArray());
            m.unmerge();
            loaded.adapters().merge(b, 0.5).unmerge();
            loaded.adapters().merge(b, 0.5);
            mergedB.put(q, ((HostTensor) loaded.tensor(q)).view().toFloatArray());
        }
        try (LoadedModel loaded = loader.load(ModelRef.local(model));
                Arena arena = Arena.ofShared()) {
            var pool = loaded.adapters().pool(1 << 20);
            assertEquals(dev.safeload.lora.Precision.F32, loaded.adapters().weightPrecision());
            pool.load("a", a);
            pool.load("b", b);
            List<dev.safeload.lora.Segment> segments =
                    List.of(
                            new dev.safeload.lora.Segment("a", 0, 3, 1f),
                            new dev.safeload.lora.Segment("b", 3, 3, 0.5f));
            for (String name : List.of(q, up)) {
                int out = (int) loaded.tensor(name).shape()[0];
                float[] w = name.equals(q) ? base : baseUp;
                MemorySegment xs = arena.allocate((long) x.length * 4, 8);
                MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, x.length);
                float[] y = matmul(x, w, tokens, TinyModels.HIDDEN, out);
                MemorySegment ys = arena.allocate((long) y.length * 4, 8);
                MemorySegment.copy(y, 0, ys, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, y.length);
                pool.apply(
                        name,
                        new dev.safeload.lora.HostActivations(
                                xs, dev.safeload.lora.Precision.F32, tokens, TinyModels.HIDDEN),
                        new dev.safeload.lora.HostActivations(
                                ys, dev.safeload.lora.Precision.F32, tokens, out),
                        segments);
                float[] got = ys.toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
                float[] wantA = matmul(x, mergedA.get(name), tokens, TinyModels.HIDDEN, out);
                float[] wantB =
                        name.equals(q)
                                ? matmul(x, mergedB.get(name), tokens, TinyModels.HIDDEN, out)
                                : y;
                for (int row = 0; row < tokens; row++) {
                    float[] want = row < 3 ? wantA : wantB;
                    for (int o = 0; o < out; o++) {
                        assertEquals(
                                want[row * out + o],
                                got[row * out + o],
                                2e-5,
                                name + " row " + row + " col " + o + fixtures.seedText());
                    }
                }
            }
        }
    }

    /** The spacing of F16 values around {@code x}: 2^(e-10), or 2^-24 below 2^-14. */
    static double f16Step(double x) {
        double ax = Math.abs(x);
        return ax < 0x1p-14 ? 0x1p-24 : Math.scalb(1.0, Math.getExponent(ax) - 10);
    }

    /** y (tokens × out) = x (tokens × in) · Wᵀ, W (out × in), in fp64 rounded to fp32. */
    static float[] matmul(float[] x, float[] w, int tokens, int in, int out) {
        float[] y = new float[tokens * out];
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) {
                    s += (double) x[t * in + i] * w[o * in + i];
                }
                y[t * out + o] = (float) s;
            }
        }
        return y;
    }

    @Test
    void cudaWithoutADeviceFailsBeforeAnythingIsResolved() {
        org.junit.jupiter.api.Assumptions.assumeFalse(
                dev.safeload.cuda.Cuda.isAvailable(), "a CUDA device is present");
        Path cache = dir.resolve("hub");
        ModelLoader cuda =
                ModelLoader.builder()
                        .device(Device.cuda(0))
                        .hub(
                                dev.safeload.cache.HubSettings.builder()
                                        .cacheDir(cache)
                                        .offline(true)
                                        .build())
                        .build();
        LoaderException e = assertThrows(LoaderException.class, () -> cuda.load("org/model"));
        assertEquals(LoaderError.NoDevice, e.kind());
        assertTrue(e.getMessage().startsWith("no CUDA device: "), e.getMessage());
        assertFalse(Files.exists(cache), "nothing resolved, nothing written");
    }

    @Test
    void locationsNoStoreReadsAndMissingPathsAreOneClearError() {
        LoaderException s3 =
                assertThrows(LoaderException.class, () -> loader.load("s3://bucket/models/x"));
        assertEquals(LoaderError.UnsupportedLocation, s3.kind());
        assertTrue(s3.getMessage().contains("dev.safeload:safeload-object-store"), s3.getMessage());
        LoaderException missing =
                assertThrows(
                        LoaderException.class, () -> loader.load(dir.resolve("nope").toString()));
        assertEquals(LoaderError.NotFound, missing.kind());
        assertEquals(
                new ModelRef.Remote(java.net.URI.create("s3://b/p")),
                ModelRef.parse("s3://b/p", "main"));
        assertEquals(ModelRef.hub("org/name", "v1"), ModelRef.parse("org/name", "v1"));
        assertEquals(ModelRef.local(Path.of("./m")), ModelRef.parse("./m", "main"));
        assertEquals(
                ModelRef.local(Path.of("m.safetensors")), ModelRef.parse("m.safetensors", "main"));
    }

    @Test
    void devicesParseAsPyTorchSpellsThem() {
        assertEquals(Device.cpu(), Device.parse("cpu"));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(3), Device.parse("CUDA:3"));
        assertEquals("cuda:3", Device.cuda(3).toString());
        for (String bad : List.of("gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:123456789")) {
            assertEquals(
                    LoaderError.InvalidDevice,
                    assertThrows(LoaderException.class, () -> Device.parse(bad)).kind(),
                    bad);
        }
    }

    private static List<Path> files(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of(root);
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
