package dev.safeload.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.TensorInfo;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Interop: adapters written by Python in the exact key layouts PEFT and kohya save
 * (src/test/resources/fixtures/make_adapters.py), merged by {@link ModelMerger} into a base written
 * by the reference safetensors writer, against numpy's fp64 merge rounded once to F16. With torch +
 * peft installed, {@link PeftMergeAndUnloadTest} compares with peft itself.
 */
class PythonFixtureMergeTest {
    @TempDir Path dir;

    static String script(String name) {
        try (InputStream in =
                PythonFixtureMergeTest.class.getResourceAsStream("/fixtures/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private long generate() {
        PythonOracle.assume("safetensors", "numpy");
        long seed = ThreadLocalRandom.current().nextInt(1 << 30);
        PythonOracle.run(script("make_adapters.py"), List.of(dir.toString(), Long.toString(seed)))
                .orThrow();
        return seed;
    }

    @Test
    void peftAdapterMergesLikeNumpy() {
        long seed = generate();
        LoraAdapter adapter = LoraAdapter.read(dir.resolve("peft"));
        assertEquals(AdapterFormat.PEFT, adapter.format());
        assertEquals(7, adapter.modules().size());
        assertEquals(2, adapter.module("model.layers.0.mlp.down_proj").rank(), "rank_pattern");
        assertEquals(
                4 / Math.sqrt(2),
                adapter.module("model.layers.0.mlp.down_proj").scale(),
                1e-12,
                "alpha_pattern + rsLoRA");
        assertEquals(4, adapter.module("model.layers.1.self_attn.v_proj").rank());
        assertEquals(8, adapter.module("model.layers.0.self_attn.v_proj").rank());
        Path out = dir.resolve("merged.safetensors");
        try (LoraBackend cpu = new CpuLoraBackend(2)) {
            ModelMerger.Result r =
                    ModelMerger.merge(
                            dir.resolve("base.safetensors"),
                            List.of(new ModelMerger.WeightedAdapter(adapter, 1.0)),
                            1.0,
                            cpu,
                            out);
            assertEquals(7, r.merged());
            assertEquals(1, r.replaced());
        }
        compare(out, dir.resolve("peft_expected.safetensors"), seed);
    }

    @Test
    void kohyaAdapterMergesLikeNumpy() {
        long seed = generate();
        LoraAdapter adapter = LoraAdapter.read(dir.resolve("kohya.safetensors"));
        assertEquals(AdapterFormat.KOHYA, adapter.format());
        assertEquals("networks.lora", adapter.metadata().get("ss_network_module"));
        Path out = dir.resolve("merged.safetensors");
        try (LoraBackend cpu = new CpuLoraBackend(2)) {
            ModelMerger.merge(
                    dir.resolve("base.safetensors"),
                    List.of(new ModelMerger.WeightedAdapter(adapter, 1.0)),
                    1.0,
                    cpu,
                    out);
        }
        compare(out, dir.resolve("kohya_expected.safetensors"), seed);
    }

    /**
     * Same names, dtypes, shapes; every element within one F16 ulp of numpy's (fp32 vs fp64 sums).
     */
    private void compare(Path got, Path expected, long seed) {
        try (SafetensorsFile g = SafetensorsFile.open(got);
                SafetensorsFile e = SafetensorsFile.open(expected);
                SafetensorsFile base = SafetensorsFile.open(dir.resolve("base.safetensors"))) {
            assertEquals(
                    e.tensorNames().stream().sorted().toList(),
                    g.tensorNames().stream().sorted().toList());
            assertEquals("pt", g.metadata().get("format"), "base metadata is kept");
            int changed = 0;
            for (TensorInfo t : e.tensors()) {
                assertEquals(t.dtype(), g.info(t.name()).dtype(), t.name());
                assertArrayEquals(t.shape(), g.info(t.name()).shape(), t.name());
                float[] want = e.tensor(t.name()).toFloatArray();
                float[] have = g.tensor(t.name()).toFloatArray();
                boolean same = java.util.Arrays.equals(base.tensor(t.name()).toFloatArray(), want);
                if (same) {
                    assertArrayEquals(want, have, t.name() + " is untouched [seed=" + seed + "]");
                    continue;
                }
                changed++;
                for (int i = 0; i < want.length; i++) {
                    float ulp =
                            Math.max(
                                    Math.scalb(Math.ulp(want[i]), 13),
                                    0x1p-24f); // F16 subnormal spacing
                    assertTrue(
                            Math.abs(want[i] - have[i]) <= ulp,
                            t.name()
                                    + "["
                                    + i
                                    + "]: "
                                    + have[i]
                                    + " vs numpy "
                                    + want[i]
                                    + " [seed="
                                    + seed
                                    + "]");
                }
            }
            assertTrue(
                    changed >= 4,
                    "the adapter changed " + changed + " tensors [seed=" + seed + "]");
        }
        // The reference reader accepts our output.
        PythonOracle.run(
                        "from safetensors.numpy import load_file; import sys;"
                                + " print(len(load_file(sys.argv[1])))",
                        List.of(got.toString()))
                .orThrow();
    }
}
