package dev.safeload.cli;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsError;
import dev.safeload.safetensors.SafetensorsException;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.TensorView;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;

/** {@code safeload export}: one tensor's raw bytes, optionally sliced and converted. */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        description = {
            "Writes a tensor's raw little-endian bytes in C order to stdout or a file, optionally"
                + " sliced (numpy syntax: `0:2,:,5`, negative indices, steps, `...`) and converted"
                + " (F32, F16, BF16, F64; round to nearest even)."
        })
final class ExportCommand implements Callable<Integer> {
    @Mixin ReaderOption reader;

    private static final long CHUNK = 8L << 20;

    @Parameters(
            index = "0",
            paramLabel = "PATH",
            description = "A .safetensors file, an .index.json, or a folder.")
    Path path;

    @Parameters(index = "1", paramLabel = "TENSOR", description = "The tensor's name.")
    String tensor;

    @Option(
            names = "--slice",
            paramLabel = "SPEC",
            description = "numpy basic indexing, e.g. `0:2,:,-1`.")
    String slice;

    @Option(
            names = "--to",
            paramLabel = "DTYPE",
            converter = DTypeConverter.class,
            description = "Convert to F32, F16, BF16 or F64.")
    DType to;

    @Option(
            names = {"-o", "--output"},
            paramLabel = "FILE",
            description = "Write here instead of stdout.")
    Path output;

    @Override
    public Integer call() throws IOException {
        try (SafetensorsModel model = SafetensorsModel.open(path, reader.options())) {
            TensorView view = model.tensor(tensor);
            if (slice != null) {
                view = view.slice(slice);
            }
            if (to != null) {
                view = view.to(to);
            }
            if (output == null) {
                OutputStream out = System.out;
                write(view.segment(), Channels.newChannel(out));
                out.flush();
            } else {
                writeFile(view.segment(), output);
            }
        }
        return 0;
    }

    /**
     * Into a temporary file beside {@code target}, then renamed over it: no half-written output.
     */
    private static void writeFile(MemorySegment data, Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
        try {
            try (FileOutputStream out = new FileOutputStream(tmp.toFile())) {
                write(data, out.getChannel());
            }
            Files.move(
                    tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw new SafetensorsException(
                    SafetensorsError.Io, "cannot write " + target + ": " + e, e);
        }
    }

    private static void write(MemorySegment data, WritableByteChannel out) throws IOException {
        for (long off = 0; off < data.byteSize(); off += CHUNK) {
            ByteBuffer bb =
                    data.asSlice(off, Math.min(CHUNK, data.byteSize() - off)).asByteBuffer();
            while (bb.hasRemaining()) {
                out.write(bb);
            }
        }
    }
}
