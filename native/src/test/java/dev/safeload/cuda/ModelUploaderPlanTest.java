package dev.safeload.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cuda.internal.HostCopyEngine;
import dev.safeload.cuda.internal.UploadPipeline;
import dev.safeload.cuda.internal.UploadPlan;
import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.SafetensorsWriter;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * {@link ModelUploader}'s options on a real sharded model, run through the host copy engine (the
 * device side is the only part replaced), checked against numpy: each tensor's bytes in the arena
 * must equal numpy's slice of the reference-parsed file, converted as PyTorch's {@code .to()}
 * rounds (numpy {@code astype(float16)}; bf16 by c10's round_to_nearest_even formula).
 */
class ModelUploaderPlanTest {
    @TempDir Path dir;

    private static final String ORACLE =
            """
            import json, struct, sys
            import numpy as np
            folder, spec = sys.argv[1], json.loads(sys.argv[2])
            index = json.load(open(folder + '/model.safetensors.index.json'))['weight_map']
            sizes = {'F32': 4, 'F16': 2, 'BF16': 2, 'I8': 1, 'U8': 1}
            def load(name):
                raw = open(folder + '/' + index[name], 'rb').read()
                n = struct.unpack('<Q', raw[:8])[0]
                info = json.loads(raw[8:8 + n])[name]
                b, e = info['data_offsets']
                data = raw[8 + n + b: 8 + n + e]
                kind = {'F32': np.float32, 'F16': np.float16, 'BF16': np.uint16, 'I8': np.int8, 'U8': np.uint8}[info['dtype']]
                return info['dtype'], np.frombuffer(data, dtype=kind).reshape(info['shape'])
            def to_bf16(f32):
                # c10::detail::round_to_nearest_even (c10/util/BFloat16.h)
                bits = f32.astype(np.float32).view(np.uint32).astype(np.uint64)
                out = ((bits + (((bits >> 16) & 1) + 0x7FFF)) >> 16).astype(np.uint16)
                return np.where(np.isnan(f32), np.uint16(0x7FC0), out)
            def bf16_to_f32(bits):
                return (bits.astype(np.uint32) << 16).view(np.float32)
            for name, (dim, start, end, target) in spec.items():
                dtype, a = load(name)
                if dim >= 0:
                    index_ = [slice(None)] * a.ndim
                    index_[dim] = slice(start, end)
                    a = a[tuple(index_)]
                a = np.ascontiguousarray(a)
                if target == 'F16':
                    a = (bf16_to_f32(a) if dtype == 'BF16' else a).astype(np.float16)
                elif target == 'BF16':
                    a = to_bf16(a.astype(np.float32) if dtype == 'F16' else a)
                print(name, a.tobytes().hex())
            """;

    @Test
    void selectionSlicesAndConversionsMatchNumpyOnAShardedModel() throws IOException {
        PythonOracle.assume("numpy");
        Random random = new Random(7);
        writeShard(
                "model-00001-of-00002.safetensors",
                Map.of(
                        "a",
                                new Tensor(
                                        DType.F32,
                                        new long[] {8, 16},
                                        RandomTensors.floats(random, 128)),
                        "b",
                                new Tensor(
                                        DType.BF16,
                                        new long[] {4, 6, 10},
                                        RandomTensors.bf16(random, 240)),
                        "skip.me",
                                new Tensor(
                                        DType.U8,
                                        new long[] {10},
                                        RandomTensors.bytes(random, 10))));
        writeShard(
                "model-00002-of-00002.safetensors",
                Map.of(
                        "c", new Tensor(DType.F16, new long[] {33}, RandomTensors.f16(random, 33)),
                        "d",
                                new Tensor(
                                        DType.I8,
                                        new long[] {5, 7},
                                        RandomTensors.bytes(random, 35)),
                        "e",
                                new Tensor(
                                        DType.F32,
                                        new long[] {3, 1000},
                                        RandomTensors.floats(random, 3000))));
        Files.writeString(
                dir.resolve("model.safetensors.index.json"),
                """
                {"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                 "b": "model-00001-of-00002.safetensors", "skip.me": "model-00001-of-00002.safetensors",
                 "c": "model-00002-of-00002.safetensors", "d": "model-00002-of-00002.safetensors",
                 "e": "model-00002-of-00002.safetensors"}}\
                """);

        Map<String, TensorSlice> slices =
                Map.of(
                        "a",
                        TensorSlice.shard(new long[] {8, 16}, 1, 1, 4),
                        "b",
                        new TensorSlice(2, 3, 8),
                        "d",
                        new TensorSlice(0, 1, 4),
                        "e",
                        TensorSlice.shard(new long[] {3, 1000}, 1, 0, 2));
        Map<String, DType> targets =
                Map.of("a", DType.F16, "b", DType.F16, "c", DType.BF16, "e", DType.BF16);
        ModelUploader uploader =
                ModelUploader.builder()
                        .select(name -> !name.startsWith("skip"))
                        .slice(t -> Optional.ofNullable(slices.get(t.name())))
                        .convert(t -> Optional.ofNullable(targets.get(t.name())))
                        .bounceBufferBytes(1024)
                        .build();

        try (SafetensorsModel model = SafetensorsModel.open(dir);
                Arena arena = Arena.ofShared()) {
            UploadPlan plan = uploader.plan(model.tensors(), t -> model.fileOf(t.name()));
            MemorySegment destination = arena.allocate(plan.arenaBytes(), UploadPlan.ALIGNMENT);
            try (HostCopyEngine engine = new HostCopyEngine(destination, 2, 100_000)) {
                new UploadPipeline(plan, engine, 3, 3).run();
            }
            List<String> names = plan.tensors().stream().map(t -> t.source().name()).toList();
            assertEquals(List.of("a", "b", "c", "d", "e"), names.stream().sorted().toList());
            assertFalse(names.contains("skip.me"));

            String spec =
                    plan.tensors().stream()
                            .map(
                                    t -> {
                                        String name = t.source().name();
                                        TensorSlice s = slices.get(name);
                                        return String.format(
                                                "\"%s\": [%d, %d, %d, \"%s\"]",
                                                name,
                                                s == null ? -1 : s.dim(),
                                                s == null ? 0 : s.start(),
                                                s == null ? 0 : s.end(),
                                                targets.containsKey(name)
                                                        ? targets.get(name).formatName()
                                                        : "");
                                    })
                            .collect(Collectors.joining(", ", "{", "}"));
            Map<String, String> expected =
                    PythonOracle.run(ORACLE, List.of(dir.toString(), spec))
                            .orThrow()
                            .stdout()
                            .lines()
                            .map(l -> l.split(" ", 2))
                            .collect(Collectors.toMap(p -> p[0], p -> p.length > 1 ? p[1] : ""));
            for (UploadPlan.PlannedTensor t : plan.tensors()) {
                String name = t.source().name();
                assertEquals(0, t.arenaOffset() % 256, name + " alignment");
                byte[] actual =
                        destination
                                .asSlice(t.arenaOffset(), t.outputBytes())
                                .toArray(ValueLayout.JAVA_BYTE);
                assertEquals(expected.get(name), HexFormat.of().formatHex(actual), name);
                assertEquals(
                        targets.containsKey(name) ? targets.get(name) : t.source().dtype(),
                        t.outputDtype());
            }
            assertArrayEquals(
                    new long[] {8, 4}, plan.tensors().get(names.indexOf("a")).outputShape());
            assertArrayEquals(
                    new long[] {3, 500}, plan.tensors().get(names.indexOf("e")).outputShape());
            // Only slices are read: a is 8x4 of 8x16 F32, b 4x6x5 of 4x6x10, d 3x7 of 5x7, e 3x500
            // of 3x1000.
            long read =
                    plan.tensors().stream().mapToLong(UploadPlan.PlannedTensor::sourceBytes).sum();
            assertEquals(8 * 4 * 4 + 4 * 6 * 5 * 2 + 33 * 2 + 3 * 7 + 3 * 500 * 4, read);
            assertTrue(plan.chunks().stream().allMatch(c -> c.bounceBytes() <= 1024));
        }
    }

    @Test
    void namingAMissingTensorOrAnImpossibleSliceIsAClearError() {
        writeShard(
                "model.safetensors",
                Map.of("w", new Tensor(DType.F32, new long[] {4, 6}, new byte[96])));
        try (dev.safeload.safetensors.SafetensorsFile file =
                dev.safeload.safetensors.SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            dev.safeload.safetensors.SafetensorsException missing =
                    org.junit.jupiter.api.Assertions.assertThrows(
                            dev.safeload.safetensors.SafetensorsException.class,
                            () ->
                                    ModelUploader.builder()
                                            .select(List.of("w", "x", "a"))
                                            .build()
                                            .plan(file.tensors(), t -> file));
            assertEquals(dev.safeload.safetensors.SafetensorsError.TensorNotFound, missing.kind());
            assertEquals(
                    "cannot upload tensors the model does not have: a, x", missing.getMessage());
            IllegalArgumentException slice =
                    org.junit.jupiter.api.Assertions.assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    ModelUploader.builder()
                                            .slice(t -> Optional.of(new TensorSlice(1, 2, 7)))
                                            .build()
                                            .plan(file.tensors(), t -> file));
            assertTrue(
                    slice.getMessage()
                            .startsWith(
                                    "cannot slice w F32[4, 6]: slice [2, 7) of dimension 1 runs"
                                            + " past its size 6"),
                    slice.getMessage());
            IllegalArgumentException uneven =
                    org.junit.jupiter.api.Assertions.assertThrows(
                            IllegalArgumentException.class,
                            () -> TensorSlice.shard(new long[] {4, 6}, 1, 0, 4));
            assertTrue(
                    uneven.getMessage().contains("does not split evenly into 4 parts"),
                    uneven.getMessage());
        }
    }

    private record Tensor(DType dtype, long[] shape, byte[] data) {}

    private void writeShard(String name, Map<String, Tensor> tensors) {
        SafetensorsWriter writer = SafetensorsWriter.create();
        tensors.forEach((n, t) -> writer.add(n, t.dtype(), t.shape(), t.data()));
        writer.write(dir.resolve(name));
    }
}
