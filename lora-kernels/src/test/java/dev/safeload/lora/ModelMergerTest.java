package dev.safeload.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.lora.internal.Numerics;
import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.SafetensorsWriter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A sharded base gives a sharded output: same shard files and index, merged tensors in their shard.
 */
class ModelMergerTest {
    @TempDir Path dir;

    @Test
    void shardedBaseKeepsItsShardsAndIndex() throws IOException {
        Fixtures f = new Fixtures();
        Fixtures.Weight q =
                f.weight("model.layers.0.self_attn.q_proj.weight", Precision.BF16, 16, 16);
        Fixtures.Weight v =
                f.weight("model.layers.1.self_attn.v_proj.weight", Precision.BF16, 16, 16);
        Path base = Files.createDirectories(dir.resolve("base"));
        SafetensorsWriter.create()
                .add(
                        q.spec().name(),
                        DType.BF16,
                        q.spec().shape(),
                        Numerics.encode(q.values(), Precision.BF16))
                .write(base.resolve("model-00001-of-00002.safetensors"));
        SafetensorsWriter.create()
                .add(
                        v.spec().name(),
                        DType.BF16,
                        v.spec().shape(),
                        Numerics.encode(v.values(), Precision.BF16))
                .write(base.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(
                base.resolve("model.safetensors.index.json"),
                "{\"metadata\": {}, \"weight_map\": {\""
                        + q.spec().name()
                        + "\": \"model-00001-of-00002.safetensors\", \""
                        + v.spec().name()
                        + "\": \"model-00002-of-00002.safetensors\"}}");
        LoraAdapter adapter =
                LoraAdapter.fromTensors(
                        f.peftLinear("model.layers.1.self_attn.v_proj", 2, 16, 16, Precision.F32),
                        null,
                        Map.of(),
                        "a");
        Path out = dir.resolve("merged");
        ModelMerger.Result r;
        try (LoraBackend cpu = new CpuLoraBackend(1)) {
            r =
                    ModelMerger.merge(
                            base,
                            List.of(new ModelMerger.WeightedAdapter(adapter, 1.0)),
                            1.0,
                            cpu,
                            out);
        }
        assertEquals(1, r.merged());
        assertEquals(1, r.copied());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors.index.json")));
        try (SafetensorsModel merged = SafetensorsModel.open(out)) {
            assertTrue(merged.isSharded());
            assertEquals(
                    "model-00002-of-00002.safetensors",
                    merged.fileOf(v.spec().name()).path().getFileName().toString());
            assertArrayEquals(
                    q.values(),
                    merged.tensor(q.spec().name()).toFloatArray(),
                    "untouched shard tensor" + f.seedText());
            double[] ref = Fixtures.widen(v.values());
            Fixtures.add(ref, Fixtures.delta(adapter.modules().getFirst(), 1.0));
            float[] got = merged.tensor(v.spec().name()).toFloatArray();
            assertTrue(
                    Fixtures.relativeError(got, ref) < Fixtures.tolerance(Precision.BF16),
                    f.seedText());
        }
    }
}
