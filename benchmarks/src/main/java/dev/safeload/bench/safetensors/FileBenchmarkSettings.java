package dev.safeload.bench.safetensors;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The run settings every safetensors benchmark shares (JMH reads them from the superclass), matched
 * by benchmarks/safetensors/peer.py: mean time per operation, 3 warm-up and 8 measured iterations
 * of 2 s. One fork with a 2 GiB heap, which also bounds direct memory (automatic arenas) at 2 GiB.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 8, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
abstract class FileBenchmarkSettings {}
