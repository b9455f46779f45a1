package dev.safeload.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.TensorInfo;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Against peft itself: a random transformers Llama and a LoRA/DoRA adapter saved with {@code
 * save_pretrained}, merged by {@code merge_and_unload()} in Python and by {@link ModelMerger} here.
 * Skipped (visibly) unless torch, transformers and peft are installed.
 */
class PeftMergeAndUnloadTest {
    @TempDir Path dir;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void mergeMatchesPeft(boolean dora) {
        PythonOracle.assumeTorch("torch", "transformers", "peft");
        long seed = ThreadLocalRandom.current().nextInt(1 << 30);
        PythonOracle.runTorch(
                        PythonFixtureMergeTest.script("peft_merge.py"),
                        List.of(dir.toString(), Long.toString(seed), dora ? "1" : "0"))
                .orThrow();
        LoraAdapter adapter = LoraAdapter.read(dir.resolve("adapter"));
        assertEquals(dora, adapter.modules().getFirst().dora());
        Path out = dir.resolve("ours.safetensors");
        try (LoraBackend cpu = new CpuLoraBackend(2)) {
            ModelMerger.merge(
                    dir.resolve("base"),
                    List.of(new ModelMerger.WeightedAdapter(adapter, 1.0)),
                    1.0,
                    cpu,
                    out);
        }
        try (SafetensorsModel ours = SafetensorsModel.open(out);
                SafetensorsModel peft = SafetensorsModel.open(dir.resolve("merged"))) {
            for (TensorInfo t : peft.tensors()) {
                float[] want = peft.tensor(t.name()).toFloatArray();
                float[] have = ours.tensor(t.name()).toFloatArray();
                double err = 0;
                double max = 0;
                for (int i = 0; i < want.length; i++) {
                    err = Math.max(err, Math.abs(want[i] - have[i]));
                    max = Math.max(max, Math.abs(want[i]));
                }
                // peft rounds the delta to fp16 before adding (two roundings); we round once.
                assertTrue(
                        err <= 1e-3 * max,
                        t.name()
                                + ": max error "
                                + err
                                + " of "
                                + max
                                + " [seed="
                                + seed
                                + ", dora="
                                + dora
                                + "]");
            }
        }
    }
}
