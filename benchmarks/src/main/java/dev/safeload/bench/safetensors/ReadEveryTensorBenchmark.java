package dev.safeload.bench.safetensors;

import dev.safeload.safetensors.ReadOptions;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.TensorInfo;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Read every tensor of the 2 GiB model file: open, move every byte of every tensor out of the page
 * cache into memory the caller owns, close. The reference peer's {@code get_tensor} copies each
 * tensor into a new bytearray; a zero-copy view alone would touch nothing, so each variant here
 * copies every byte too. The figure is compared with {@link MemoryCopyCeiling}, which moves the
 * same bytes with nothing else to do.
 */
@State(Scope.Benchmark)
public class ReadEveryTensorBenchmark extends FileBenchmarkSettings {
    /** The model file written by benchmarks/safetensors/make_fixtures.py. */
    @Param("")
    public String modelFile;

    private Path path;
    private Arena arena;
    private SafetensorsFile openedOnce;

    /** Sized to the largest tensor and faulted in once, as a loader's staging buffer is. */
    private MemorySegment destination;

    @Setup(Level.Trial)
    public void setUp() {
        path = BenchFiles.require(modelFile);
        openedOnce = SafetensorsFile.open(path);
        long largest =
                openedOnce.tensors().stream().mapToLong(TensorInfo::byteLength).max().orElse(1);
        arena = Arena.ofShared();
        destination = arena.allocate(largest, 4096);
        destination.fill((byte) 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        openedOnce.close();
        arena.close();
    }

    /**
     * Through the public view: {@code tensor(name).segment()}, then one copy into the staging
     * buffer.
     */
    @Benchmark
    public long mmapCopyIntoReusedBuffer() {
        return forEveryTensor(
                tensor -> MemorySegment.copy(tensor, 0, destination, 0, tensor.byteSize()));
    }

    /**
     * As the peer does: a new buffer per tensor (zeroed by the arena, then filled), freed after.
     */
    @Benchmark
    public long mmapCopyIntoNewBuffer() {
        return forEveryTensor(
                tensor -> {
                    try (Arena perTensor = Arena.ofConfined()) {
                        perTensor.allocate(tensor.byteSize(), 64).copyFrom(tensor);
                    }
                });
    }

    /**
     * The file opened once per trial instead of per operation: the same copies from a mapping whose
     * page tables are already populated, which isolates what opening (mapping) a file costs.
     */
    @Benchmark
    public long mmapOpenedOnceCopyIntoReusedBuffer() {
        return forEveryTensor(
                openedOnce,
                tensor -> MemorySegment.copy(tensor, 0, destination, 0, tensor.byteSize()));
    }

    /**
     * Opens the file, hands every tensor's mapped bytes to {@code copy} in file order, closes it.
     */
    private long forEveryTensor(Consumer<MemorySegment> copy) {
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            return forEveryTensor(file, copy);
        }
    }

    private static long forEveryTensor(SafetensorsFile file, Consumer<MemorySegment> copy) {
        long moved = 0;
        for (String name : file.tensorNames()) {
            MemorySegment tensor = file.tensor(name).segment();
            copy.accept(tensor);
            moved += tensor.byteSize();
        }
        return moved;
    }

    /** The pread backend: positional reads straight into the staging buffer, no mapping at all. */
    @Benchmark
    public long preadIntoReusedBuffer() {
        long moved = 0;
        try (SafetensorsFile file =
                SafetensorsFile.open(path, ReadOptions.of(ReadOptions.Backend.PREAD))) {
            for (TensorInfo tensor : file.tensors()) {
                file.readBytes(tensor, 0, destination.asSlice(0, tensor.byteLength()));
                moved += tensor.byteLength();
            }
        }
        return moved;
    }
}
