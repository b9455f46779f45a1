package dev.safeload.loader.internal;

import dev.safeload.loader.CudaTensor;
import dev.safeload.loader.HostTensor;
import dev.safeload.loader.LoadedTensor;
import dev.safeload.loader.LoaderError;
import dev.safeload.loader.LoaderException;
import dev.safeload.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes what a placed model holds now (after its adapters) as safetensors: a single-file model to
 * the file {@code out}, a sharded one to the folder {@code out} with the same shards and index.
 * Host tensors are written straight from their memory; device tensors are read back one at a time
 * when the writer reaches them, so host memory stays at about one tensor.
 */
public final class ModelSaver {
    private ModelSaver() {}

    /** Writes the model; returns the files written. */
    public static List<Path> save(
            SourceLayout layout, Map<String, LoadedTensor> tensors, Placement placement, Path out) {
        List<Path> written = new ArrayList<>();
        if (!layout.sharded()) {
            writeFile(layout.files().getFirst(), tensors, placement, out);
            written.add(out);
            return List.copyOf(written);
        }
        try {
            Files.createDirectories(out);
            for (SourceLayout.FileLayout file : layout.files()) {
                Path target = out.resolve(file.name());
                writeFile(file, tensors, placement, target);
                written.add(target);
            }
            Path index = out.resolve(layout.indexName());
            Files.write(index, layout.index());
            written.add(index);
        } catch (IOException e) {
            throw new LoaderException(
                    LoaderError.Io, "cannot write " + out + ": " + e.getMessage(), e);
        }
        return List.copyOf(written);
    }

    private static void writeFile(
            SourceLayout.FileLayout file,
            Map<String, LoadedTensor> tensors,
            Placement placement,
            Path target) {
        SafetensorsWriter writer = SafetensorsWriter.create();
        if (file.metadata() != null && !file.metadata().isEmpty()) {
            writer.metadata(file.metadata());
        }
        for (String name : file.tensors()) {
            LoadedTensor t = tensors.get(name);
            switch (t) {
                case HostTensor h -> writer.add(h.name(), h.dtype(), h.shape(), h.segment());
                case CudaTensor c ->
                        writer.add(
                                c.name(),
                                c.dtype(),
                                c.shape(),
                                channel -> {
                                    try (Arena arena = Arena.ofConfined()) {
                                        MemorySegment host =
                                                arena.allocate(Math.max(1, c.byteSize()), 256)
                                                        .asSlice(0, c.byteSize());
                                        placement.read(c, host);
                                        ByteBuffer buffer = host.asByteBuffer();
                                        while (buffer.hasRemaining()) {
                                            channel.write(buffer);
                                        }
                                    }
                                });
            }
        }
        writer.write(target);
    }
}
