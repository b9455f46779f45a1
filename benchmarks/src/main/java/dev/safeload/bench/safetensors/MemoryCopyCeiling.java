package dev.safeload.bench.safetensors;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * The memory-copy ceilings the safetensors read figures are divided by: every benchmark here moves
 * the model file's whole tensor-data region (the bytes a "read every tensor" operation must move)
 * into one reused, already-faulted native buffer, in chunks of the largest tensor's size, with no
 * parsing, no per-tensor bookkeeping and no allocation.
 *
 * <ul>
 *   <li>{@code nativeTo*}: from an anonymous native copy of the data: DRAM bandwidth alone.
 *   <li>{@code mappedTo*}: from a mapping of the file made once, page cache warm, page tables
 *       populated after the first pass: the copy every reader of a warm file must do.
 *   <li>{@code freshMappingTo*}: maps the file anew for each operation, as opening a file does:
 *       adds the minor faults that populate the page tables.
 * </ul>
 *
 * Each with {@link MemorySegment#copy}; the warm mapping also with the C library's {@code memcpy}
 * (which the reference's Rust copy calls), so that the ceiling is the faster of the two.
 */
@State(Scope.Benchmark)
public class MemoryCopyCeiling extends FileBenchmarkSettings {
    /** The model file written by benchmarks/safetensors/make_fixtures.py. */
    @Param("")
    public String modelFile;

    /**
     * Destination buffer size: the largest tensor of the model file (lm_head, 32000 x 2048 BF16).
     */
    @Param("131072000")
    public long chunkBytes;

    private Arena arena;
    private FileChannel channel;
    private MemorySegment mapped;
    private MemorySegment anonymous;
    private MemorySegment destination;
    private long dataStart;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        arena = Arena.ofShared();
        channel = FileChannel.open(BenchFiles.require(modelFile), StandardOpenOption.READ);
        mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        dataStart = BenchFiles.dataStart(mapped);
        anonymous = arena.allocate(mapped.byteSize() - dataStart, 4096);
        anonymous.copyFrom(mapped.asSlice(dataStart));
        destination = arena.allocate(chunkBytes, 4096);
        destination.fill((byte) 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        arena.close();
        channel.close();
    }

    @Benchmark
    public void nativeToNativeJdkCopy() {
        copyAllJdk(anonymous, 0);
    }

    @Benchmark
    public void mappedToNativeJdkCopy() {
        copyAllJdk(mapped, dataStart);
    }

    @Benchmark
    public void mappedToNativeMemcpy() {
        copyAllLibc(mapped, dataStart);
    }

    @Benchmark
    public void freshMappingToNativeJdkCopy() throws IOException {
        try (Arena perOperation = Arena.ofConfined()) {
            copyAllJdk(
                    channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), perOperation),
                    dataStart);
        }
    }

    private void copyAllJdk(MemorySegment source, long from) {
        for (long at = from, end = source.byteSize(); at < end; at += chunkBytes) {
            MemorySegment.copy(source, at, destination, 0, Math.min(chunkBytes, end - at));
        }
    }

    private void copyAllLibc(MemorySegment source, long from) {
        for (long at = from, end = source.byteSize(); at < end; at += chunkBytes) {
            LibcMemcpy.copy(source, at, destination, Math.min(chunkBytes, end - at));
        }
    }
}
