package dev.safeload.safetensors;

import dev.safeload.safetensors.internal.Converter;
import dev.safeload.safetensors.internal.HeaderJson;
import dev.safeload.safetensors.internal.HeaderParser;
import dev.safeload.safetensors.internal.Names;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes safetensors files byte-identical to the reference writer ({@code serialize_to_file} in
 * {@code safetensors/src/tensor.rs}, which Python's {@code save_file} calls) for the same tensors
 * and metadata: tensors sorted by dtype in descending {@link DType} order, then by name; offsets
 * back to back; the header compact JSON padded with spaces to a multiple of 8. The one freedom, the
 * order of metadata keys (a hash map in the reference), is fixed here: sorted by code point.
 *
 * <p>{@link #write(Path)} streams the tensors to a new temporary file in the target's folder,
 * forces it to disk and renames it over the target atomically, so a reader (or a mapping of the old
 * file, reference issue #762) never sees a half-written file.
 *
 * <p>Refused with {@link SafetensorsError#InvalidWrite}, because the reference writes them but no
 * reader can read them back: a tensor named {@code __metadata__}; no tensors with an empty
 * (non-null) metadata map (the reference emits invalid JSON); names or metadata with unpaired
 * surrogates. Also refused: duplicate names, and data whose size does not match the shape.
 *
 * {@snippet :
 * SafetensorsWriter.create()
 *         .metadata(Map.of("format", "pt"))
 *         .add("w", DType.F32, new long[] {2, 3}, segment)
 *         .write(Path.of("out.safetensors"));
 * }
 */
public final class SafetensorsWriter {
    private static final Comparator<String> BY_CODE_POINT = SafetensorsWriter::compareCodePoints;

    /** Reference order: dtype descending, then name ascending as UTF-8 bytes (= code points). */
    private static final Comparator<Entry> FILE_ORDER =
            Comparator.comparing((Entry e) -> e.dtype, Comparator.reverseOrder())
                    .thenComparing(e -> e.name, BY_CODE_POINT);

    private static final long CHUNK = 8L << 20;

    /** Produces exactly the declared number of bytes of one tensor. */
    @FunctionalInterface
    public interface TensorSource {
        void writeTo(WritableByteChannel out) throws IOException;
    }

    private record Entry(
            String name, DType dtype, long[] shape, long byteLength, TensorSource source) {}

    private final Map<String, Entry> entries = new HashMap<>();
    private Map<String, String> metadata;
    private SafetensorsLimits limits = SafetensorsLimits.DEFAULT;

    private SafetensorsWriter() {}

    public static SafetensorsWriter create() {
        return new SafetensorsWriter();
    }

    /** Sets the {@code __metadata__} map; {@code null} writes none. Keys are written sorted. */
    public SafetensorsWriter metadata(Map<String, String> map) {
        if (map == null) {
            metadata = null;
            return this;
        }
        TreeMap<String, String> sorted = new TreeMap<>(BY_CODE_POINT);
        for (Map.Entry<String, String> e : map.entrySet()) {
            checkText(Objects.requireNonNull(e.getKey(), "metadata key"), "metadata key");
            checkText(Objects.requireNonNull(e.getValue(), "metadata value"), "metadata value");
            sorted.put(e.getKey(), e.getValue());
        }
        metadata = sorted;
        return this;
    }

    /**
     * The header size limit applied when writing (the reference refuses headers over 100,000,000
     * bytes).
     */
    public SafetensorsWriter limits(SafetensorsLimits newLimits) {
        limits = Objects.requireNonNull(newLimits, "limits");
        return this;
    }

    /** Adds a tensor whose bytes are {@code data} (C order, little-endian); read when writing. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment data) {
        long bytes = byteLength(name, dtype, shape);
        if (data.byteSize() != bytes) {
            throw new SafetensorsException(
                    SafetensorsError.TensorInvalidInfo,
                    String.format(
                            Locale.ROOT,
                            "tensor %s: shape %s of %s needs %d bytes, the data has %d",
                            Names.quote(name),
                            java.util.Arrays.toString(shape),
                            dtype.formatName(),
                            bytes,
                            data.byteSize()));
        }
        return put(new Entry(name, dtype, shape.clone(), bytes, out -> writeSegment(data, out)));
    }

    /** Adds a tensor from a heap array of bytes. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
        return add(name, dtype, shape, MemorySegment.ofArray(data));
    }

    /** Adds a view under its own name. */
    public SafetensorsWriter add(TensorView view) {
        return add(view.name(), view.dtype(), view.shape(), view.segment());
    }

    /**
     * Adds {@code view} converted to {@code target} (see {@link TensorView#to}); the conversion
     * runs chunk by chunk while writing, so no converted copy of the whole tensor is held.
     */
    public SafetensorsWriter add(TensorView view, DType target) {
        if (view.dtype() == target) {
            return add(view);
        }
        Converter.check(view.dtype(), target, view.name());
        long[] shape = view.shape();
        long bytes = byteLength(view.name(), target, shape);
        long count = view.elementCount();
        return put(
                new Entry(
                        view.name(),
                        target,
                        shape,
                        bytes,
                        out -> {
                            long perChunk =
                                    1L << 20; // a multiple of every sub-byte packing (2 and 4)
                            try (Arena scratch = Arena.ofConfined()) {
                                MemorySegment buf = scratch.allocate(target.byteSize(perChunk), 8);
                                for (long first = 0; first < count; first += perChunk) {
                                    long n = Math.min(perChunk, count - first);
                                    MemorySegment part = buf.asSlice(0, target.byteSize(n));
                                    Converter.convert(
                                            view.segment(), view.dtype(), first, part, target, n);
                                    writeSegment(part, out);
                                }
                            }
                        }));
    }

    /** Adds a tensor whose bytes {@code source} writes when the file is written. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, TensorSource source) {
        long bytes = byteLength(name, dtype, shape);
        return put(
                new Entry(
                        name,
                        dtype,
                        shape.clone(),
                        bytes,
                        Objects.requireNonNull(source, "source")));
    }

    private long byteLength(String name, DType dtype, long[] shape) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        if (name.equals(HeaderParser.METADATA_KEY)) {
            throw new SafetensorsException(
                    SafetensorsError.InvalidWrite,
                    "a tensor cannot be named `__metadata__`: readers take that key for the"
                            + " metadata map");
        }
        checkText(name, "tensor name");
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new SafetensorsException(
                        SafetensorsError.InvalidWrite,
                        "tensor "
                                + Names.quote(name)
                                + " has a negative dimension "
                                + java.util.Arrays.toString(shape));
            }
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException e) {
                throw new SafetensorsException(
                        SafetensorsError.ValidationOverflow,
                        "tensor "
                                + Names.quote(name)
                                + ": element count of "
                                + java.util.Arrays.toString(shape)
                                + " overflows");
            }
        }
        return dtype.byteSize(count);
    }

    private SafetensorsWriter put(Entry e) {
        if (entries.putIfAbsent(e.name, e) != null) {
            throw new SafetensorsException(
                    SafetensorsError.InvalidWrite, "duplicate tensor name " + Names.quote(e.name));
        }
        return this;
    }

    private static void checkText(String s, String what) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)
                    && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new SafetensorsException(
                        SafetensorsError.InvalidWrite,
                        what
                                + " "
                                + Names.quote(s)
                                + " has an unpaired surrogate, which JSON readers refuse");
            }
        }
    }

    /** The planned file: header bytes and entries in file order. */
    private record Layout(byte[] header, List<Entry> order, long dataLength) {
        long totalSize() {
            return 8 + header.length + dataLength;
        }
    }

    private Layout layout() {
        if (entries.isEmpty() && metadata != null && metadata.isEmpty()) {
            throw new SafetensorsException(
                    SafetensorsError.InvalidWrite,
                    "no tensors and an empty metadata map: the reference writes"
                            + " `{},\"__metadata__\":{}}`, which is not JSON; pass null metadata"
                            + " instead");
        }
        List<Entry> order = new ArrayList<>(entries.values());
        order.sort(FILE_ORDER);
        HeaderJson json = new HeaderJson(metadata);
        long offset = 0;
        for (Entry e : order) {
            json.tensor(e.name, e.dtype.formatName(), e.shape, offset, offset + e.byteLength);
            offset += e.byteLength;
        }
        byte[] header = json.toPaddedBytes();
        if (header.length > limits.maxHeaderBytes()) {
            throw new SafetensorsException(
                    SafetensorsError.HeaderTooLarge,
                    String.format(
                            Locale.ROOT,
                            "header too large: %d bytes, above the limit of %d"
                                    + " (SafetensorsLimits.maxHeaderBytes)",
                            header.length,
                            limits.maxHeaderBytes()));
        }
        return new Layout(header, order, offset);
    }

    /** The size in bytes of the file {@link #write} would produce. */
    public long totalSize() {
        return layout().totalSize();
    }

    /**
     * Writes the file: a temporary file next to {@code target}, then an atomic rename over it. On
     * failure the temporary file is removed and {@code target} is untouched.
     */
    public void write(Path target) {
        Layout layout = layout();
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            FileChannel ch = null;
            for (int attempt = 0; ch == null; attempt++) {
                tmp =
                        dir.resolve(
                                "."
                                        + abs.getFileName()
                                        + "."
                                        + Long.toHexString(ThreadLocalRandom.current().nextLong())
                                        + ".tmp");
                try {
                    // CREATE_NEW with default attributes: permissions follow the umask, like any
                    // new file (a random-name temp API would make it owner-only).
                    ch =
                            FileChannel.open(
                                    tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException e) {
                    if (attempt > 100) {
                        throw e;
                    }
                }
            }
            try (FileChannel out = ch) {
                writeAll(layout, out);
                out.force(true);
            }
            try {
                Files.move(
                        tmp,
                        abs,
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new SafetensorsException(
                    SafetensorsError.Io, "cannot write " + target + ": " + e, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // Best effort: the original failure is the one to report.
                }
            }
        }
    }

    /** The file's bytes in memory (at most 2 GiB). */
    public byte[] toByteArray() {
        Layout layout = layout();
        if (layout.totalSize() > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(
                    SafetensorsError.InvalidWrite,
                    "file of " + layout.totalSize() + " bytes does not fit a byte[]");
        }
        byte[] out = new byte[(int) layout.totalSize()];
        fill(layout, MemorySegment.ofArray(out));
        return out;
    }

    /** The file's bytes in a segment allocated from {@code arena}. */
    public MemorySegment serialize(Arena arena) {
        Layout layout = layout();
        MemorySegment out = arena.allocate(layout.totalSize(), 8);
        fill(layout, out);
        return out;
    }

    private static void fill(Layout layout, MemorySegment out) {
        try {
            writeAll(layout, new SegmentChannel(out));
        } catch (IOException e) {
            throw new SafetensorsException(
                    SafetensorsError.Io, "serialization failed: " + e.getMessage(), e);
        }
    }

    private static void writeAll(Layout layout, WritableByteChannel out) throws IOException {
        ByteBuffer prefix =
                ByteBuffer.allocate(8)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(0, layout.header.length);
        writeFully(prefix, out);
        writeFully(ByteBuffer.wrap(layout.header), out);
        for (Entry e : layout.order) {
            CountingChannel counted = new CountingChannel(out, e.byteLength, e.name);
            e.source.writeTo(counted);
            if (counted.written != e.byteLength) {
                throw new SafetensorsException(
                        SafetensorsError.InvalidWrite,
                        String.format(
                                Locale.ROOT,
                                "the source of tensor %s wrote %d bytes, %d declared",
                                Names.quote(e.name),
                                counted.written,
                                e.byteLength));
            }
        }
    }

    private static void writeSegment(MemorySegment data, WritableByteChannel out)
            throws IOException {
        long size = data.byteSize();
        boolean viewable =
                data.isNative() || data.heapBase().map(byte[].class::isInstance).orElse(false);
        byte[] bounce = viewable ? null : new byte[(int) Math.min(CHUNK, size)];
        for (long off = 0; off < size; off += CHUNK) {
            long n = Math.min(CHUNK, size - off);
            if (viewable) {
                writeFully(data.asSlice(off, n).asByteBuffer(), out);
            } else {
                // A heap segment over float[], long[], ... has no ByteBuffer view: copy through
                // bytes.
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, off, bounce, 0, (int) n);
                writeFully(ByteBuffer.wrap(bounce, 0, (int) n), out);
            }
        }
    }

    private static void writeFully(ByteBuffer bb, WritableByteChannel out) throws IOException {
        while (bb.hasRemaining()) {
            out.write(bb);
        }
    }

    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    /** Refuses bytes beyond what a tensor declared, so a bad source cannot shift later tensors. */
    private static final class CountingChannel implements WritableByteChannel {
        private final WritableByteChannel out;
        private final long limit;
        private final String name;
        long written;

        CountingChannel(WritableByteChannel out, long limit, String name) {
            this.out = out;
            this.limit = limit;
            this.name = name;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (written + src.remaining() > limit) {
                throw new SafetensorsException(
                        SafetensorsError.InvalidWrite,
                        String.format(
                                Locale.ROOT,
                                "the source of tensor %s wrote more than the %d bytes its shape"
                                        + " declares",
                                Names.quote(name),
                                limit));
            }
            int n = out.write(src);
            written += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return out.isOpen();
        }

        @Override
        public void close() {
            // The file channel belongs to the writer.
        }
    }

    /** A channel that fills a segment from its start. */
    private static final class SegmentChannel implements WritableByteChannel {
        private final MemorySegment target;
        private long position;

        SegmentChannel(MemorySegment target) {
            this.target = target;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            MemorySegment.copy(MemorySegment.ofBuffer(src), 0, target, position, n);
            src.position(src.limit());
            position += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    }
}
