package dev.safeload.safetensors;

import dev.safeload.safetensors.internal.IndexFile;
import dev.safeload.safetensors.internal.Names;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * One model over one safetensors file or the shards of a sharded checkpoint ({@code
 * model.safetensors.index.json}, whose {@code weight_map} names each tensor's shard). All shards
 * are opened and validated at {@link #open}; they share one arena, which {@link #close()} closes
 * once (closing a shared arena is the expensive part of unmapping).
 *
 * <p>{@link #open} accepts a {@code .safetensors} file, an {@code .index.json} file, or a folder
 * holding {@code model.safetensors.index.json}, {@code model.safetensors}, or exactly one index or
 * one safetensors file. Shard names that leave the index's folder are refused with {@link
 * SafetensorsError#InvalidIndex}. The check is lexical, so symbolic links inside the folder (the
 * hub cache's snapshot links to blobs) keep working.
 *
 * {@snippet :
 * try (SafetensorsModel model = SafetensorsModel.open(Path.of("/models/llama"))) {
 *     for (TensorInfo t : model.tensors()) {
 *         model.fileOf(t.name()).readBytes(t, 0, destination(t));
 *     }
 * }
 * }
 */
public final class SafetensorsModel implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    private static final String INDEX_SUFFIX = ".safetensors.index.json";

    private final Path source;
    private final boolean sharded;
    private final Arena arena;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> fileByTensor;
    private final List<TensorInfo> tensors;

    private SafetensorsModel(
            Path source,
            boolean sharded,
            Arena arena,
            List<SafetensorsFile> files,
            Map<String, SafetensorsFile> fileByTensor,
            List<TensorInfo> tensors) {
        this.source = source;
        this.sharded = sharded;
        this.arena = arena;
        this.files = List.copyOf(files);
        this.fileByTensor = fileByTensor;
        this.tensors = List.copyOf(tensors);
    }

    public static SafetensorsModel open(Path path) {
        return open(path, ReadOptions.DEFAULT);
    }

    public static SafetensorsModel open(Path path, ReadOptions options) {
        Objects.requireNonNull(path, "path");
        Path target = resolve(path);
        Arena arena = Arena.ofShared();
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            if (target.getFileName().toString().endsWith(".json")) {
                return openIndex(target, options, arena, opened);
            }
            SafetensorsFile file = SafetensorsFile.open(target, options, arena, false);
            opened.add(file);
            Map<String, SafetensorsFile> byTensor = HashMap.newHashMap(file.tensors().size());
            for (TensorInfo t : file.tensors()) {
                byTensor.put(t.name(), file);
            }
            return new SafetensorsModel(target, false, arena, opened, byTensor, file.tensors());
        } catch (RuntimeException | Error e) {
            for (SafetensorsFile f : opened) {
                f.close();
            }
            arena.close();
            throw e;
        }
    }

    private static SafetensorsModel openIndex(
            Path indexPath, ReadOptions options, Arena arena, List<SafetensorsFile> opened) {
        IndexFile index = IndexFile.read(indexPath);
        Path folder = indexPath.toAbsolutePath().normalize().getParent();
        Map<String, SafetensorsFile> byShard = new LinkedHashMap<>();
        Map<String, SafetensorsFile> byTensor = HashMap.newHashMap(index.weightMap().size());
        for (Map.Entry<String, String> e : index.weightMap().entrySet()) {
            SafetensorsFile file = byShard.get(e.getValue());
            if (file == null) {
                Path shard = folder.resolve(e.getValue()).normalize();
                if (!shard.startsWith(folder)) {
                    throw new SafetensorsException(
                            SafetensorsError.InvalidIndex,
                            "shard " + Names.quote(e.getValue()) + " resolves outside " + folder);
                }
                file = SafetensorsFile.open(shard, options, arena, false);
                opened.add(file);
                byShard.put(e.getValue(), file);
            }
            if (!file.contains(e.getKey())) {
                throw new SafetensorsException(
                        SafetensorsError.InvalidIndex,
                        "invalid index "
                                + indexPath
                                + ": tensor "
                                + Names.quote(e.getKey())
                                + " is listed in shard "
                                + Names.quote(e.getValue())
                                + " but that file does not hold it");
            }
            byTensor.put(e.getKey(), file);
        }
        List<TensorInfo> tensors = new ArrayList<>(byTensor.size());
        for (SafetensorsFile f : byShard.values()) {
            for (TensorInfo t : f.tensors()) {
                if (byTensor.get(t.name()) == f) {
                    tensors.add(t);
                }
            }
        }
        return new SafetensorsModel(
                indexPath, true, arena, new ArrayList<>(byShard.values()), byTensor, tensors);
    }

    /** The file {@link #open} reads for {@code path}: itself, or what a folder holds. */
    static Path resolve(Path path) {
        if (!Files.isDirectory(path)) {
            if (!Files.exists(path)) {
                throw new SafetensorsException(
                        SafetensorsError.Io, "no such file or folder: " + path);
            }
            return path;
        }
        for (String name : List.of(INDEX_FILE, SINGLE_FILE)) {
            Path p = path.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        List<Path> indexes;
        List<Path> singles;
        try (Stream<Path> s = Files.list(path)) {
            List<Path> all = s.filter(Files::isRegularFile).sorted().toList();
            indexes =
                    all.stream()
                            .filter(p -> p.getFileName().toString().endsWith(INDEX_SUFFIX))
                            .toList();
            singles =
                    all.stream()
                            .filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                            .toList();
        } catch (IOException e) {
            throw new SafetensorsException(
                    SafetensorsError.Io, "cannot list " + path + ": " + e, e);
        }
        if (indexes.size() == 1) {
            return indexes.getFirst();
        }
        if (indexes.isEmpty() && singles.size() == 1) {
            return singles.getFirst();
        }
        throw new SafetensorsException(
                SafetensorsError.InvalidIndex,
                "folder "
                        + path
                        + " holds no "
                        + INDEX_FILE
                        + " or "
                        + SINGLE_FILE
                        + ", and "
                        + indexes.size()
                        + " index files and "
                        + singles.size()
                        + " .safetensors files; name the file to open");
    }

    /** The file opened: the single .safetensors file or the index. */
    public Path source() {
        return source;
    }

    /** Whether the model came from an index of shards. */
    public boolean isSharded() {
        return sharded;
    }

    /** Every tensor, shard by shard in index order, in data-offset order within a shard. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** The tensor names, in the order of {@link #tensors()}. */
    public List<String> tensorNames() {
        List<String> names = new ArrayList<>(tensors.size());
        for (TensorInfo t : tensors) {
            names.add(t.name());
        }
        return names;
    }

    public boolean contains(String name) {
        return fileByTensor.containsKey(name);
    }

    /** The header entry of {@code name} in its shard. */
    public TensorInfo info(String name) {
        return fileOf(name).info(name);
    }

    /** A view of {@code name} (see {@link SafetensorsFile#tensor}). */
    public TensorView tensor(String name) {
        return fileOf(name).tensor(name);
    }

    /**
     * The file holding {@code name}. It belongs to this model: closing it has no effect on the
     * mapping, which lives until the model is closed.
     */
    public SafetensorsFile fileOf(String name) {
        SafetensorsFile f = fileByTensor.get(name);
        if (f == null) {
            throw new SafetensorsException(
                    SafetensorsError.TensorNotFound,
                    "tensor " + Names.quote(name) + " not found in " + source);
        }
        return f;
    }

    /** The files, one per shard, in index order. */
    public List<SafetensorsFile> files() {
        return files;
    }

    /** The metadata of the single file, or of the first shard (where converters put it). */
    public Map<String, String> metadata() {
        return files.isEmpty() ? Collections.emptyMap() : files.getFirst().metadata();
    }

    /** Closes every shard and then the shared arena, once; idempotent. */
    @Override
    public void close() {
        for (SafetensorsFile f : files) {
            f.close();
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsModel["
                + source
                + ", "
                + files.size()
                + " files, "
                + tensors.size()
                + " tensors]";
    }
}
