package dev.safeload.cli;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.SafetensorsWriter;
import dev.safeload.safetensors.TensorInfo;
import dev.safeload.safetensors.TensorView;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code safeload convert}: rewrites a file as the reference writer would, optionally casting
 * floats.
 */
@Command(
        name = "convert",
        mixinStandardHelpOptions = true,
        description = {
            "Rewrites a .safetensors file, optionally casting its floating-point tensors (--to F32,"
                    + " F16, BF16 or F64, round to nearest even; integer, BOOL and C64 tensors are"
                    + " copied as they are).",
            "The output is byte-identical to what the reference writer (python safetensors"
                + " save_file) produces for the same tensors and metadata (metadata keys sorted)."
                + " It is written to a temporary file and renamed, so OUT may be IN."
        })
final class ConvertCommand implements Callable<Integer> {
    @Mixin ReaderOption reader;

    @Parameters(index = "0", paramLabel = "IN", description = "The .safetensors file to read.")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "The file to write.")
    Path out;

    @Option(
            names = "--to",
            paramLabel = "DTYPE",
            converter = DTypeConverter.class,
            description = "Cast floating-point tensors to F32, F16, BF16 or F64.")
    DType to;

    @Override
    public Integer call() {
        try (SafetensorsFile file = SafetensorsFile.open(in, reader.options())) {
            SafetensorsWriter writer =
                    SafetensorsWriter.create()
                            .metadata(file.hasMetadata() ? file.metadata() : null);
            for (TensorInfo t : file.tensors()) {
                TensorView view = file.tensor(t.name());
                if (to != null && t.dtype().isFloatingPoint()) {
                    writer.add(view, to);
                } else {
                    writer.add(view);
                }
            }
            writer.write(out);
        }
        return 0;
    }
}
