package dev.safeload.bench.safetensors;

import dev.safeload.safetensors.ReadOptions;
import dev.safeload.safetensors.SafetensorsFile;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.file.Path;

/**
 * Open and validate a header of 20,000 tensors, then close: what the reference's {@code safe_open}
 * does before the first {@code get_tensor} (it validates the whole header at open, and so does
 * {@link SafetensorsFile#open}).
 */
@State(Scope.Benchmark)
public class HeaderOpenBenchmark extends FileBenchmarkSettings {
    /** The 20,000-tensor file written by benchmarks/safetensors/make_fixtures.py. */
    @Param("")
    public String headerFile;

    private Path path;

    @Setup
    public void setUp() {
        path = BenchFiles.require(headerFile);
    }

    @Benchmark
    public int openMmap() {
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            return file.tensors().size();
        }
    }

    @Benchmark
    public int openPread() {
        try (SafetensorsFile file =
                SafetensorsFile.open(path, ReadOptions.of(ReadOptions.Backend.PREAD))) {
            return file.tensors().size();
        }
    }
}
