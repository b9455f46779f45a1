package dev.safeload.bench.safetensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** The fixture files a benchmark is pointed at with {@code -p name=path}. */
final class BenchFiles {
    private static final ValueLayout.OfLong U64_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BenchFiles() {}

    /** The path, which must name an existing file: the fixtures come from make_fixtures.py. */
    static Path require(String path) {
        if (path == null || path.isEmpty() || !Files.isRegularFile(Path.of(path))) {
            throw new IllegalArgumentException(
                    "no fixture file '"
                            + path
                            + "': run benchmarks/safetensors/run.sh, or write the files with"
                            + " make_fixtures.py and pass them with -p modelFile=... -p"
                            + " headerFile=...");
        }
        return Path.of(path);
    }

    /**
     * Where the tensor data of a safetensors file starts: after the 8-byte header length and the
     * header.
     */
    static long dataStart(MemorySegment file) {
        return 8 + file.get(U64_LE, 0);
    }
}
