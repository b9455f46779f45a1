package dev.safeload.lora.internal;

import dev.safeload.lora.AdapterTensor;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.LoraError;
import dev.safeload.lora.LoraException;
import dev.safeload.lora.Precision;
import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.TensorInfo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Finds an adapter's files: a PEFT folder ({@code adapter_config.json} + {@code
 * adapter_model.safetensors}, docs/lora.md §1.1), a folder with one other {@code .safetensors}
 * (diffusers' {@code pytorch_lora_weights.safetensors}, a kohya file), or a {@code .safetensors}
 * file (with an {@code adapter_config.json} beside it when there is one).
 */
public final class AdapterFiles {
    static final String CONFIG = "adapter_config.json";
    static final String WEIGHTS = "adapter_model.safetensors";

    private AdapterFiles() {}

    public static LoraAdapter read(Path path) {
        Path weights = weightsOf(path);
        Path configPath = weights.resolveSibling(CONFIG);
        String config = null;
        try {
            if (Files.isRegularFile(configPath)) {
                config = Files.readString(configPath, StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new LoraException(
                    LoraError.Io, "cannot read " + configPath + ": " + e.getMessage(), e);
        }
        try (SafetensorsFile file = SafetensorsFile.open(weights)) {
            Map<String, AdapterTensor> tensors = new LinkedHashMap<>();
            for (TensorInfo t : file.tensors()) {
                DType dtype = t.dtype();
                Precision.of(dtype, "adapter tensor " + t.name() + " in " + weights);
                tensors.put(
                        t.name(),
                        new AdapterTensor(dtype, t.shape(), file.tensor(t.name()).toFloatArray()));
            }
            return LoraAdapter.fromTensors(
                    tensors,
                    config,
                    file.metadata() == null ? Map.of() : file.metadata(),
                    path.toString());
        }
    }

    private static Path weightsOf(Path path) {
        if (Files.isRegularFile(path)) {
            return path;
        }
        if (!Files.isDirectory(path)) {
            throw LoraException.of(LoraError.Io, "adapter %s does not exist", path);
        }
        Path weights = path.resolve(WEIGHTS);
        if (Files.isRegularFile(weights)) {
            return weights;
        }
        List<Path> candidates;
        try (Stream<Path> s = Files.list(path)) {
            candidates =
                    s.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                            .sorted()
                            .toList();
        } catch (IOException e) {
            throw new LoraException(LoraError.Io, "cannot list " + path + ": " + e.getMessage(), e);
        }
        if (candidates.size() == 1) {
            return candidates.getFirst();
        }
        if (candidates.isEmpty() && Files.isRegularFile(path.resolve("adapter_model.bin"))) {
            throw LoraException.of(
                    LoraError.UnsupportedFormat,
                    "%s holds adapter_model.bin, a pickle; only safetensors adapters are read"
                            + " (re-save with safe_serialization=True)",
                    path);
        }
        throw LoraException.of(
                LoraError.InvalidAdapter,
                "%s holds %s; expected %s or exactly one .safetensors file",
                path,
                candidates.isEmpty()
                        ? "no .safetensors file"
                        : candidates.stream().map(p -> p.getFileName().toString()).toList(),
                WEIGHTS);
    }
}
