package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.SafetensorsWriter;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/** {@code safeload lora inspect|merge} in-process on files written by the safetensors writer. */
class LoraCommandTest {
    static final int IN = 24;
    static final int OUT = 16;
    static final int R = 4;

    @TempDir Path dir;

    long seed;
    float[] w;
    float[] a;
    float[] b;

    /** The CLI in-process, output captured (the runner the download command's tests share). */
    static DownloadCommandTest.Run safeload(String... args) {
        return DownloadCommandTest.run(args);
    }

    static float[] random(SplittableRandom rnd, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((rnd.nextDouble() * 2 - 1) * std);
        }
        return v;
    }

    /** Little-endian bytes, as safetensors stores them. */
    static byte[] le(float[] v) {
        java.nio.ByteBuffer buf =
                java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(v);
        return buf.array();
    }

    @BeforeEach
    void files() throws IOException {
        seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        w = random(rnd, OUT * IN, 0.05);
        a = random(rnd, R * IN, 0.2);
        b = random(rnd, OUT * R, 0.2);
        SafetensorsWriter.create()
                .metadata(Map.of("format", "pt"))
                .add(
                        "model.layers.0.self_attn.q_proj.weight",
                        DType.F32,
                        new long[] {OUT, IN},
                        le(w))
                .add("model.norm.weight", DType.F32, new long[] {IN}, le(new float[IN]))
                .write(dir.resolve("base.safetensors"));
        Path adapter = Files.createDirectories(dir.resolve("adapter"));
        SafetensorsWriter.create()
                .add(
                        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                        DType.F32,
                        new long[] {R, IN},
                        le(a))
                .add(
                        "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
                        DType.F32,
                        new long[] {OUT, R},
                        le(b))
                .write(adapter.resolve("adapter_model.safetensors"));
        Files.writeString(
                adapter.resolve("adapter_config.json"),
                "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"target_modules\":"
                        + " [\"q_proj\"], \"base_model_name_or_path\": \"tiny\"}");
    }

    @Test
    void inspectPrintsFormatRankAlphaScaleAndTargets() {
        DownloadCommandTest.Run o = safeload("lora", "inspect", dir.resolve("adapter").toString());
        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains("format: PEFT"), o.out());
        assertTrue(o.out().contains("rank: 4"), o.out());
        assertTrue(o.out().contains("alpha: 8"), o.out());
        assertTrue(o.out().contains("scale: 2 (alpha/r)"), o.out());
        assertTrue(o.out().contains("target modules: [q_proj]"), o.out());
        assertTrue(
                o.out().contains("model.layers.0.self_attn.q_proj  linear r=4 alpha=8 scale=2"),
                o.out());
    }

    @Test
    void mergeWritesBaseDtypeWithDeltaAdded() {
        mergeOn("cpu");
    }

    /**
     * {@code lora merge --device DEVICE} of the fixture, checked element by element against fp64.
     */
    void mergeOn(String device) {
        Path out = dir.resolve("merged-" + device + ".safetensors");
        DownloadCommandTest.Run o =
                safeload(
                        "lora",
                        "merge",
                        "--base",
                        dir.resolve("base.safetensors").toString(),
                        "--adapter",
                        dir.resolve("adapter").toString(),
                        "--scale",
                        "0.5",
                        "--device",
                        device,
                        "-o",
                        out.toString());
        assertEquals(0, o.exit(), o.err());
        assertTrue(
                o.out().startsWith("merged 1 tensors, replaced 0, copied 1 on " + device), o.out());
        try (SafetensorsFile merged = SafetensorsFile.open(out)) {
            assertEquals(DType.F32, merged.info("model.layers.0.self_attn.q_proj.weight").dtype());
            assertEquals("pt", merged.metadata().get("format"));
            float[] got = merged.tensor("model.layers.0.self_attn.q_proj.weight").toFloatArray();
            for (int o2 = 0; o2 < OUT; o2++) {
                for (int i = 0; i < IN; i++) {
                    double d = 0;
                    for (int k = 0; k < R; k++) {
                        d += (double) b[o2 * R + k] * a[k * IN + i];
                    }
                    double want = w[o2 * IN + i] + 0.5 * 2.0 * d;
                    assertEquals(
                            want,
                            got[o2 * IN + i],
                            1e-6,
                            "element " + o2 + "," + i + " [seed=" + seed + "L]");
                }
            }
            assertArrayEquals(new float[IN], merged.tensor("model.norm.weight").toFloatArray());
        }
    }

    @Test
    void failuresAreOneLineWithTheKind() throws IOException {
        DownloadCommandTest.Run missing =
                safeload("lora", "inspect", dir.resolve("nope").toString());
        assertEquals(1, missing.exit());
        assertTrue(
                missing.err().startsWith("Io: ") && missing.err().strip().lines().count() == 1,
                missing.err());

        Files.writeString(
                dir.resolve("adapter/adapter_config.json"),
                "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8}");
        SafetensorsWriter.create()
                .add(
                        "model.layers.0.self_attn.q_proj.weight",
                        DType.F16,
                        new long[] {OUT, IN + 1},
                        new byte[2 * OUT * (IN + 1)])
                .write(dir.resolve("other.safetensors"));
        DownloadCommandTest.Run misfit =
                safeload(
                        "lora",
                        "merge",
                        "--base",
                        dir.resolve("other.safetensors").toString(),
                        "--adapter",
                        dir.resolve("adapter").toString(),
                        "-o",
                        dir.resolve("x.safetensors").toString());
        assertEquals(1, misfit.exit());
        assertTrue(
                misfit.err().startsWith("ShapeMismatch: ")
                        && misfit.err().contains("[16, 25]")
                        && misfit.err().contains("[16, 24]"),
                misfit.err());
        assertTrue(!Files.exists(dir.resolve("x.safetensors")), "nothing written on a misfit");

        DownloadCommandTest.Run usage = safeload("lora", "merge", "--base", "b", "-o", "x");
        assertEquals(2, usage.exit(), usage.err());
        DownloadCommandTest.Run device =
                safeload(
                        "lora",
                        "merge",
                        "--base",
                        "b",
                        "--adapter",
                        "a",
                        "--device",
                        "tpu",
                        "-o",
                        "x");
        assertEquals(2, device.exit(), device.err());
    }

    @Test
    void cudaWithoutAGpuIsOneClearError() {
        org.junit.jupiter.api.Assumptions.assumeFalse(
                dev.safeload.lora.CudaLoraBackend.available(), "a GPU is present");
        DownloadCommandTest.Run o =
                safeload(
                        "lora",
                        "merge",
                        "--base",
                        dir.resolve("base.safetensors").toString(),
                        "--adapter",
                        dir.resolve("adapter").toString(),
                        "--device",
                        "cuda",
                        "-o",
                        dir.resolve("m.safetensors").toString());
        assertEquals(1, o.exit());
        assertTrue(
                o.err().startsWith("BackendUnavailable: ") && o.err().contains("--device cpu"),
                o.err());
    }
}
