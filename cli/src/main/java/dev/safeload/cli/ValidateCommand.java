package dev.safeload.cli;

import dev.safeload.SafeloadException;
import dev.safeload.safetensors.ReadOptions;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.SafetensorsModel;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code safeload validate}: every rule of the reference reader, for each file given. */
@Command(
        name = "validate",
        mixinStandardHelpOptions = true,
        description = {
            "Checks each file completely with the reference reader's rules and error names. A valid"
                + " one prints `PATH: OK (N tensors)` on stdout; an invalid one prints `PATH: KIND:"
                + " message` on stderr, where KIND is the reference's error name (HeaderTooSmall,"
                + " HeaderTooLarge, InvalidHeaderLength, InvalidHeader,"
                + " InvalidHeaderDeserialization, InvalidOffset, TensorInvalidInfo,"
                + " MetadataIncompleteBuffer, ValidationOverflow, MisalignedSlice).",
            "A folder or an .index.json is checked as a sharded model: the index and every shard.",
            "Exit status 1 if any file is invalid."
        })
final class ValidateCommand implements Callable<Integer> {
    @Parameters(
            arity = "1..*",
            paramLabel = "PATH",
            description = "Files (.safetensors or .index.json) or folders.")
    List<Path> paths;

    @Override
    public Integer call() {
        int invalid = 0;
        for (Path p : paths) {
            try {
                int tensors = check(p);
                System.out.printf(Locale.ROOT, "%s: OK (%d tensors)%n", p, tensors);
            } catch (SafeloadException e) {
                invalid++;
                System.err.printf(Locale.ROOT, "%s: %s: %s%n", p, e.kind().name(), e.getMessage());
            }
        }
        System.out.flush();
        System.err.flush();
        return invalid == 0 ? 0 : SafeloadCli.EXIT_FAILED;
    }

    /** Header checks need no mapping; positional reads avoid mapping (and unmapping) every file. */
    private static int check(Path p) {
        ReadOptions options = ReadOptions.of(ReadOptions.Backend.PREAD);
        if (Files.isDirectory(p) || p.getFileName().toString().endsWith(".json")) {
            try (SafetensorsModel model = SafetensorsModel.open(p, options)) {
                return model.tensors().size();
            }
        }
        try (SafetensorsFile file = SafetensorsFile.open(p, options)) {
            return file.tensors().size();
        }
    }
}
