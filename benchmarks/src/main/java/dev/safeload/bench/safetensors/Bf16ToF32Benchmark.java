package dev.safeload.bench.safetensors;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsFile;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.file.Path;

/**
 * Convert every tensor of the BF16 model file to F32: open, {@code tensor(name).to(F32)} for each,
 * close. Each result is a new native buffer (an automatic arena's, freed by the collector), as each
 * of the peer's {@code astype(float32)} results is a new numpy array; or a new heap array.
 */
@State(Scope.Benchmark)
public class Bf16ToF32Benchmark extends FileBenchmarkSettings {
    /** The BF16 model file written by benchmarks/safetensors/make_fixtures.py. */
    @Param("")
    public String modelFile;

    private Path path;

    @Setup
    public void setUp() {
        path = BenchFiles.require(modelFile);
    }

    @Benchmark
    public long mmapToF32() {
        long written = 0;
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            for (String name : file.tensorNames()) {
                written += file.tensor(name).to(DType.F32).byteSize();
            }
        }
        return written;
    }

    /**
     * The same through {@code toFloatArray()}: a new heap {@code float[]} per tensor instead of
     * native memory.
     */
    @Benchmark
    public long mmapToFloatArray() {
        long written = 0;
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            for (String name : file.tensorNames()) {
                written += 4L * file.tensor(name).toFloatArray().length;
            }
        }
        return written;
    }
}
