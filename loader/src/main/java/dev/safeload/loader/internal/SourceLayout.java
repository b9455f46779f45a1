package dev.safeload.loader.internal;

import dev.safeload.loader.LoaderError;
import dev.safeload.loader.LoaderException;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.TensorInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How a model's tensors were spread over its files, kept when it is placed so that {@link
 * ModelSaver} writes what is in memory back in the same shape: the same shard names with the same
 * tensors and metadata, and the same index, as {@code safeload lora merge} writes a merged model.
 *
 * @param sharded whether the model came from an index
 * @param indexName the index's file name, or null
 * @param index the index's bytes, or null
 * @param files the files, in the model's order
 */
public record SourceLayout(
        boolean sharded, String indexName, byte[] index, List<FileLayout> files) {
    /**
     * One file.
     *
     * @param name its file name
     * @param metadata its {@code __metadata__}, or null
     * @param tensors the names of its tensors that were placed
     */
    public record FileLayout(String name, Map<String, String> metadata, List<String> tensors) {}

    /** The layout of {@code model}, restricted to the tensors in {@code placed}. */
    public static SourceLayout of(SafetensorsModel model, Set<String> placed) {
        List<FileLayout> files = new ArrayList<>();
        for (SafetensorsFile f : model.files()) {
            List<String> names = new ArrayList<>();
            for (TensorInfo t : f.tensors()) {
                if (placed.contains(t.name()) && model.fileOf(t.name()) == f) {
                    names.add(t.name());
                }
            }
            files.add(
                    new FileLayout(
                            f.path().getFileName().toString(),
                            f.hasMetadata() ? f.metadata() : null,
                            List.copyOf(names)));
        }
        if (!model.isSharded()) {
            return new SourceLayout(false, null, null, List.copyOf(files));
        }
        try {
            return new SourceLayout(
                    true,
                    model.source().getFileName().toString(),
                    Files.readAllBytes(model.source()),
                    List.copyOf(files));
        } catch (IOException e) {
            throw new LoaderException(
                    LoaderError.Io,
                    "cannot read the index " + model.source() + " again: " + e.getMessage(),
                    e);
        }
    }
}
