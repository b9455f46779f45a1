package dev.safeload.lora;

import dev.safeload.lora.internal.Numerics;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.SafetensorsWriter;
import dev.safeload.safetensors.TensorInfo;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Writes a base model with adapters merged in, in the base dtypes ({@code safeload lora merge}).
 *
 * <p>Tensors no adapter touches are copied straight from the mapped base; merged tensors are loaded
 * into the backend one at a time when the writer reaches them, merged, read back and streamed out,
 * so memory stays at about one tensor. A single-file base gives a single file ({@code out}); a
 * sharded base (a folder or index) gives a folder with the same shards and index.
 */
public final class ModelMerger {
    private ModelMerger() {}

    /** An adapter and its weight in a merge. */
    public record WeightedAdapter(LoraAdapter adapter, double weight) {
        public WeightedAdapter {
            Objects.requireNonNull(adapter, "adapter");
        }
    }

    /** What a merge wrote. */
    public record Result(int merged, int replaced, int copied, List<Path> files) {}

    /** The base model's tensors as {@link WeightSpec}s. */
    public static List<WeightSpec> specs(SafetensorsModel base) {
        return base.tensors().stream()
                .map(t -> new WeightSpec(t.name(), t.dtype(), t.shape()))
                .toList();
    }

    public static Result merge(
            Path base,
            List<WeightedAdapter> adapters,
            double globalScale,
            LoraBackend backend,
            Path out) {
        try (SafetensorsModel model = SafetensorsModel.open(base)) {
            MergePlan.Builder builder = MergePlan.builder(specs(model)).globalScale(globalScale);
            adapters.forEach(a -> builder.add(a.adapter(), a.weight()));
            MergePlan plan = builder.build();
            int[] counts = new int[3];
            List<Path> files = new ArrayList<>();
            if (!model.isSharded()) {
                SafetensorsFile file = model.files().getFirst();
                writeFile(file, plan, backend, out, counts);
                files.add(out);
            } else {
                createDirectories(out);
                for (SafetensorsFile file : model.files()) {
                    Path target = out.resolve(file.path().getFileName());
                    writeFile(file, plan, backend, target, counts);
                    files.add(target);
                }
                Path index = model.source();
                copy(index, out.resolve(index.getFileName()));
                files.add(out.resolve(index.getFileName()));
            }
            return new Result(counts[0], counts[1], counts[2], List.copyOf(files));
        }
    }

    private static void writeFile(
            SafetensorsFile file, MergePlan plan, LoraBackend backend, Path target, int[] counts) {
        SafetensorsWriter writer = SafetensorsWriter.create();
        if (file.metadata() != null && !file.metadata().isEmpty()) {
            writer.metadata(file.metadata());
        }
        for (TensorInfo t : file.tensors()) {
            MergeTarget merge = plan.target(t.name());
            AdapterTensor replacement = plan.replacements().get(t.name());
            if (merge == null && replacement == null) {
                writer.add(file.tensor(t.name()));
                counts[2]++;
                continue;
            }
            counts[merge != null ? 0 : 1]++;
            writer.add(
                    t.name(),
                    t.dtype(),
                    t.shape(),
                    channel -> {
                        try (Arena arena = Arena.ofConfined()) {
                            MemorySegment bytes =
                                    mergedBytes(file, t, merge, replacement, backend, arena);
                            var buffer = bytes.asByteBuffer();
                            while (buffer.hasRemaining()) {
                                channel.write(buffer);
                            }
                        }
                    });
        }
        writer.write(target);
    }

    /** The tensor's bytes after replacement and merge. */
    private static MemorySegment mergedBytes(
            SafetensorsFile file,
            TensorInfo t,
            MergeTarget merge,
            AdapterTensor replacement,
            LoraBackend backend,
            Arena arena) {
        WeightSpec spec = new WeightSpec(t.name(), t.dtype(), t.shape());
        MemorySegment source = file.segment(t);
        if (replacement != null) {
            Precision p = Precision.of(t.dtype(), "base tensor " + t.name());
            source = MemorySegment.ofArray(Numerics.encode(replacement.values(), p));
        }
        MemorySegment result = arena.allocate(t.byteLength(), 8);
        if (merge == null) {
            result.copyFrom(source);
            return result;
        }
        try (WeightBuffer w = backend.load(spec, source)) {
            backend.merge(w, merge);
            backend.read(w, result);
        }
        return result;
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new LoraException(
                    LoraError.Io, "cannot create " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void copy(Path from, Path to) {
        try {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new LoraException(
                    LoraError.Io, "cannot copy " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }
}
