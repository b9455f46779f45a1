package dev.safeload.cli;

import dev.safeload.safetensors.ReadOptions;

import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.util.Locale;

/**
 * {@code --reader mmap|pread|auto}: how a command reads model files ({@link ReadOptions.Backend});
 * {@code auto}, the default, reads with pread on network and FUSE filesystems and maps elsewhere.
 */
final class ReaderOption {
    @Option(
            names = "--reader",
            paramLabel = "auto|mmap|pread",
            converter = BackendConverter.class,
            description =
                    "How to read model files (default: auto: pread on NFS, Lustre, SMB, FUSE and"
                            + " 9p, mmap elsewhere).")
    ReadOptions.Backend backend = ReadOptions.Backend.AUTO;

    ReadOptions options() {
        return ReadOptions.of(backend);
    }

    static final class BackendConverter implements CommandLine.ITypeConverter<ReadOptions.Backend> {
        @Override
        public ReadOptions.Backend convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "auto" -> ReadOptions.Backend.AUTO;
                case "mmap" -> ReadOptions.Backend.MMAP;
                case "pread" -> ReadOptions.Backend.PREAD;
                default ->
                        throw new CommandLine.TypeConversionException(
                                "'" + value + "' is not a reader; use auto, mmap or pread");
            };
        }
    }
}
