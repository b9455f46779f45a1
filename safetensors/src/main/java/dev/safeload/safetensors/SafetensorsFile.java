package dev.safeload.safetensors;

import dev.safeload.safetensors.internal.HeaderParser;
import dev.safeload.safetensors.internal.Names;
import dev.safeload.safetensors.internal.PreadChannel;
import dev.safeload.safetensors.internal.ReaderSelection;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An open safetensors file, validated completely at {@link #open}: every rule of the reference
 * reader, in its order, with the reference's error kinds (see {@link SafetensorsError}).
 *
 * <p>With the {@link ReadOptions.Backend#MMAP} backend the whole file is one read-only {@link
 * MemorySegment} ({@code FileChannel.map(READ_ONLY, 0, size, arena)}) and tensor views are
 * zero-copy slices of it, however large the file (no 2 GiB windows). With {@link
 * ReadOptions.Backend#PREAD} the file is read with positional reads instead. The default, {@link
 * ReadOptions.Backend#AUTO}, takes PREAD on network and FUSE filesystems and MMAP elsewhere; {@link
 * #readerChoice()} tells which.
 *
 * <p>Lifetime: the handle owns a shared {@link Arena}; {@link #close()} unmaps the file, after
 * which every view and segment obtained from it fails fast with {@link IllegalStateException}. All
 * read methods may be called from many threads at once.
 *
 * <p>A mapping assumes the file does not change while open: if another process truncates it, an
 * access past the new end faults (the JVM turns the SIGBUS into an {@link InternalError}). Files
 * that may change underneath, and network filesystems, are safer with PREAD, where the same event
 * is an {@link SafetensorsError#Io} error. Replace files by writing a new one and renaming it
 * ({@link SafetensorsWriter#write} does), never in place.
 *
 * {@snippet :
 * try (SafetensorsFile file = SafetensorsFile.open(Path.of("model.safetensors"))) {
 *     TensorView w = file.tensor("lm_head.weight");
 *     float first = w.getFloat(0, 0);
 * }
 * }
 *
 * <p>Difference from the reference reader: a header that names a tensor twice is refused with
 * {@link SafetensorsError#InvalidHeaderDeserialization} (the reference keeps the last entry), so
 * that no two readers can disagree about which bytes a name means.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Path path;
    private final ReadOptions options;
    private final ReaderChoice readerChoice;
    private final long fileSize;
    private final SafetensorsHeader header;
    private final Map<String, TensorInfo> byName;
    private final Arena arena;
    private final boolean ownsArena;
    private final MemorySegment data; // MMAP: the data section; PREAD: null
    private final PreadChannel pread; // PREAD: the channel; MMAP: null
    private final Map<String, MemorySegment> preadCache;

    private SafetensorsFile(
            Path path,
            ReadOptions options,
            ReaderChoice readerChoice,
            long fileSize,
            SafetensorsHeader header,
            Arena arena,
            boolean ownsArena,
            MemorySegment data,
            PreadChannel pread) {
        this.path = path;
        this.options = options;
        this.readerChoice = readerChoice;
        this.fileSize = fileSize;
        this.header = header;
        this.arena = arena;
        this.ownsArena = ownsArena;
        this.data = data;
        this.pread = pread;
        this.preadCache = pread == null ? null : new ConcurrentHashMap<>();
        Map<String, TensorInfo> index = HashMap.newHashMap(header.tensors().size());
        for (TensorInfo t : header.tensors()) {
            index.put(t.name(), t);
        }
        this.byName = index;
    }

    /**
     * Opens and validates {@code path} with the reference limits, mapped or read with {@code pread}
     * as its filesystem suits ({@link ReadOptions.Backend#AUTO}).
     */
    public static SafetensorsFile open(Path path) {
        return open(path, ReadOptions.DEFAULT);
    }

    /** Opens and validates {@code path} with the given backend and limits. */
    public static SafetensorsFile open(Path path, ReadOptions options) {
        Arena arena = Arena.ofShared();
        try {
            return open(path, options, arena, true);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Opens a file whose mapping lives in {@code arena}, owned by the caller when {@code ownsArena}
     * is false.
     */
    static SafetensorsFile open(Path path, ReadOptions options, Arena arena, boolean ownsArena) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(SafetensorsError.Io, "no such file: " + path, e);
        } catch (IOException e) {
            throw new SafetensorsException(
                    SafetensorsError.Io, "cannot open " + path + ": " + e, e);
        }
        boolean keepChannel = false;
        try {
            long size = channel.size();
            ReaderChoice choice = ReaderSelection.choose(path, options.backend());
            if (choice.backend() == ReadOptions.Backend.MMAP) {
                MemorySegment whole =
                        size == 0
                                ? MemorySegment.ofArray(new byte[0])
                                : map(path, channel, size, arena);
                SafetensorsHeader header = HeaderParser.parse(whole, options.limits());
                MemorySegment data = whole.asSlice(header.dataStart());
                return new SafetensorsFile(
                        path, options, choice, size, header, arena, ownsArena, data, null);
            }
            PreadChannel pread = PreadChannel.of(path, channel);
            keepChannel = true;
            try {
                SafetensorsHeader header =
                        HeaderParser.parse(
                                (pos, dst) -> pread.read(pos, dst), size, options.limits());
                return new SafetensorsFile(
                        path, options, choice, size, header, arena, ownsArena, null, pread);
            } catch (RuntimeException | IOException e) {
                pread.close();
                throw e;
            }
        } catch (IOException e) {
            throw new SafetensorsException(
                    SafetensorsError.Io, "cannot read " + path + ": " + e, e);
        } finally {
            if (!keepChannel) {
                closeQuietly(channel);
            }
        }
    }

    private static MemorySegment map(Path path, FileChannel channel, long size, Arena arena)
            throws IOException {
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException | UnsupportedOperationException e) {
            throw new SafetensorsException(
                    SafetensorsError.Io,
                    "cannot memory-map "
                            + path
                            + " ("
                            + size
                            + " bytes): "
                            + e.getMessage()
                            + "; check `ulimit -v` and vm.max_map_count, or open it with "
                            + "ReadOptions.Backend.PREAD",
                    e);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing a read-only channel after mapping; nothing was written that could be lost.
        }
    }

    /** The file's path as given to {@link #open}. */
    public Path path() {
        return path;
    }

    /** The backend and limits this file was opened with. */
    public ReadOptions options() {
        return options;
    }

    /** The backend in use and why ({@link ReadOptions.Backend#AUTO} resolved for this file). */
    public ReaderChoice readerChoice() {
        return readerChoice;
    }

    /** The file size in bytes. */
    public long fileSize() {
        return fileSize;
    }

    /** The validated header. */
    public SafetensorsHeader header() {
        return header;
    }

    /**
     * The {@code __metadata__} map; empty when the header has none (see {@link #hasMetadata()}).
     */
    public Map<String, String> metadata() {
        return header.metadata() == null ? Collections.emptyMap() : header.metadata();
    }

    /** Whether the header has a {@code __metadata__} object (as opposed to none or JSON null). */
    public boolean hasMetadata() {
        return header.metadata() != null;
    }

    /** The tensors in data-offset order. */
    public List<TensorInfo> tensors() {
        return header.tensors();
    }

    /** The tensor names in data-offset order. */
    public List<String> tensorNames() {
        List<String> names = new ArrayList<>(header.tensors().size());
        for (TensorInfo t : header.tensors()) {
            names.add(t.name());
        }
        return names;
    }

    /** Whether the file has a tensor named {@code name}. */
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /**
     * The header entry of {@code name}.
     *
     * @throws SafetensorsException {@link SafetensorsError#TensorNotFound}
     */
    public TensorInfo info(String name) {
        TensorInfo t = byName.get(name);
        if (t == null) {
            throw new SafetensorsException(
                    SafetensorsError.TensorNotFound,
                    "tensor " + Names.quote(name) + " not found in " + path);
        }
        return t;
    }

    /** The absolute file offset of the data section: {@code 8 + N}. */
    public long dataStart() {
        return header.dataStart();
    }

    /**
     * A view of tensor {@code name}: for MMAP a zero-copy slice of the mapping; for PREAD a copy
     * read on first use and kept, like the mapping, until this file is closed.
     */
    public TensorView tensor(String name) {
        TensorInfo t = info(name);
        return TensorView.of(t.name(), t.dtype(), t.shape(), segment(t));
    }

    /** The bytes of {@code t} as a segment (zero-copy for MMAP, cached copy for PREAD). */
    public MemorySegment segment(TensorInfo t) {
        checkOwn(t);
        if (data != null) {
            return data.asSlice(t.begin(), t.byteLength());
        }
        return preadCache.computeIfAbsent(
                t.name(),
                k -> {
                    MemorySegment copy =
                            arena.allocate(Math.max(1, t.byteLength()), 8)
                                    .asSlice(0, t.byteLength());
                    pread.read(dataStart() + t.begin(), copy);
                    return copy;
                });
    }

    /**
     * Copies {@code dst.byteSize()} bytes of tensor {@code t}, starting {@code offsetInTensor}
     * bytes into it, to {@code dst} (any segment: native, pinned, heap). Thread-safe; this is the
     * call upload pipelines make from several threads. For PREAD it is one positional read per GiB,
     * straight into {@code dst}.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the tensor
     * @throws IllegalStateException if the file is closed
     */
    public void readBytes(TensorInfo t, long offsetInTensor, MemorySegment dst) {
        checkOwn(t);
        long n = dst.byteSize();
        Objects.checkFromIndexSize(offsetInTensor, n, t.byteLength());
        if (data != null) {
            MemorySegment.copy(data, t.begin() + offsetInTensor, dst, 0, n);
        } else {
            pread.read(dataStart() + t.begin() + offsetInTensor, dst);
        }
    }

    /**
     * The whole data section as one segment (MMAP only): tensor {@code t} is at {@code [t.begin(),
     * t.end())}.
     *
     * @throws UnsupportedOperationException for the PREAD backend
     */
    public MemorySegment dataSegment() {
        if (data == null) {
            throw new UnsupportedOperationException(
                    "the PREAD backend has no mapped data segment; use readBytes");
        }
        return data;
    }

    private void checkOwn(TensorInfo t) {
        if (byName.get(t.name()) != t && !t.equals(byName.get(t.name()))) {
            throw new IllegalArgumentException(t + " is not a tensor of " + path);
        }
    }

    /** Unmaps the file (or closes its channel); idempotent. Views fail fast afterwards. */
    @Override
    public void close() {
        if (pread != null) {
            pread.close();
        }
        if (ownsArena && arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile["
                + path
                + ", "
                + header.tensors().size()
                + " tensors, "
                + readerChoice.backend()
                + "]";
    }
}
