package dev.safeload.lora;

import dev.safeload.lora.internal.CpuAdapterPool;
import dev.safeload.lora.internal.CpuKernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The reference backend: merges in host memory with fp32 accumulation and one rounding per element,
 * on a fixed pool of daemon threads it owns ({@link #close()} stops them). Work is synchronous:
 * every call has finished when it returns.
 */
public final class CpuLoraBackend implements LoraBackend {
    private final int parallelism;
    private final ExecutorService threads;

    /** A backend with one thread per available processor. */
    public CpuLoraBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public CpuLoraBackend(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
        this.parallelism = threads;
        AtomicInteger n = new AtomicInteger();
        this.threads =
                Executors.newFixedThreadPool(
                        threads,
                        r -> {
                            Thread t = new Thread(r, "safeload-lora-cpu-" + n.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
    }

    @Override
    public String name() {
        return "cpu";
    }

    /** The worker thread count. */
    public int parallelism() {
        return parallelism;
    }

    /**
     * Wraps caller memory (for example a writable mapping of the base file) so that merges change
     * it in place; closing the buffer leaves the memory alone.
     */
    public WeightBuffer wrap(WeightSpec spec, MemorySegment bytes) {
        return new HostWeight(spec, checkedSize(spec, bytes), null);
    }

    @Override
    public WeightBuffer load(WeightSpec spec, MemorySegment bytes) {
        checkedSize(spec, bytes);
        Arena arena = Arena.ofShared();
        MemorySegment copy = arena.allocate(bytes.byteSize(), 8);
        copy.copyFrom(bytes);
        return new HostWeight(spec, copy, arena);
    }

    @Override
    public void merge(WeightBuffer weight, MergeTarget target) {
        CpuKernels.merge(host(weight, target).segment(), target, 1f, threads, parallelism);
    }

    @Override
    public void unmerge(WeightBuffer weight, MergeTarget target) {
        if (target.hasDora()) {
            throw LoraException.of(
                    LoraError.Unsupported,
                    "%s: DoRA cannot be unmerged by subtraction (the weight norms are not kept);"
                            + " keep the original instead",
                    target.weight().name());
        }
        HostWeight w = host(weight, target);
        List<MergeTarget.Step> steps = target.steps();
        for (int i = steps.size() - 1; i >= 0; i--) {
            MergeTarget single =
                    new MergeTarget(
                            target.weight(),
                            target.precision(),
                            target.rows(),
                            target.cols(),
                            target.outputsAreRows(),
                            List.of(steps.get(i)),
                            target.contributors());
            CpuKernels.merge(w.segment(), single, -1f, threads, parallelism);
        }
    }

    @Override
    public WeightBuffer copy(WeightBuffer weight) {
        HostWeight w = host(weight, null);
        return load(w.spec(), w.segment());
    }

    @Override
    public void copyInto(WeightBuffer source, WeightBuffer destination) {
        HostWeight from = host(source, null);
        HostWeight to = host(destination, null);
        if (!from.spec().equals(to.spec())) {
            throw new IllegalArgumentException("cannot copy " + from.spec() + " over " + to.spec());
        }
        to.segment().copyFrom(from.segment());
    }

    @Override
    public void read(WeightBuffer weight, MemorySegment destination) {
        HostWeight w = host(weight, null);
        MemorySegment.copy(w.segment(), 0, destination, 0, w.segment().byteSize());
    }

    @Override
    public void synchronize() {
        // every call is synchronous
    }

    @Override
    public AdapterPool newAdapterPool(
            Collection<WeightSpec> base, Precision precision, long capacityBytes) {
        return new CpuAdapterPool(base, capacityBytes, threads, parallelism);
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }

    private static MemorySegment checkedSize(WeightSpec spec, MemorySegment bytes) {
        long need =
                spec.elementCount()
                        * Precision.of(spec.dtype(), "tensor " + spec.name()).byteSize();
        if (bytes.byteSize() != need) {
            throw LoraException.of(
                    LoraError.ShapeMismatch,
                    "%s %s needs %d bytes, got %d",
                    spec.name(),
                    spec.shapeText(),
                    need,
                    bytes.byteSize());
        }
        return bytes;
    }

    private static HostWeight host(WeightBuffer weight, MergeTarget target) {
        if (!(weight instanceof HostWeight h)) {
            throw new IllegalArgumentException(
                    "the CPU backend needs its own buffers, got " + weight.getClass().getName());
        }
        if (target != null && !target.weight().equals(h.spec())) {
            throw new IllegalArgumentException(
                    "target " + target.weight() + " does not belong to buffer " + h.spec());
        }
        return h;
    }

    /** A tensor in host memory; owns {@code arena} when the backend allocated it. */
    record HostWeight(WeightSpec spec, MemorySegment segment, Arena arena) implements WeightBuffer {
        @Override
        public void close() {
            if (arena != null && arena.scope().isAlive()) {
                arena.close();
            }
        }
    }
}
