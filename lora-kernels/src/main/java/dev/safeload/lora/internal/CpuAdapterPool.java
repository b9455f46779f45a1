package dev.safeload.lora.internal;

import dev.safeload.lora.Activations;
import dev.safeload.lora.HostActivations;
import dev.safeload.lora.Precision;
import dev.safeload.lora.Segment;
import dev.safeload.lora.WeightSpec;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.ExecutorService;

/**
 * The CPU serving pool: factors stay fp32 on the heap; each token row is shrunk to k fp32 values
 * ({@code t = A·x}) and expanded into its y row ({@code y += s·Bᵀ·t}), rounding y once.
 */
public final class CpuAdapterPool extends LruAdapterPool<CpuAdapterPool.Module> {
    /**
     * A resident module: A's rows (k × in) and Bᵀ's rows (k × out), each its own array (see
     * CpuKernels.rowsOf).
     */
    record Module(ServingFactors f, float[][] a, float[][] bt) {}

    private final ExecutorService threads;
    private final int parallelism;

    public CpuAdapterPool(
            Collection<WeightSpec> base,
            long capacityBytes,
            ExecutorService threads,
            int parallelism) {
        super(base, capacityBytes);
        this.threads = threads;
        this.parallelism = parallelism;
    }

    @Override
    protected long bytesOf(ServingFactors factors) {
        return factors.parameters() * Float.BYTES;
    }

    @Override
    protected Module upload(ServingFactors f) {
        return new Module(
                f,
                CpuKernels.rowsOf(f.a(), f.k(), f.in()),
                CpuKernels.rowsOf(f.bt(), f.k(), f.out()));
    }

    @Override
    protected void free(Module module) {
        // heap arrays: the collector frees them
    }

    @Override
    protected void checkShape(String weightName, Module m, Activations x, Activations y) {
        shapeMismatch(weightName, m.f().in(), m.f().out(), x, y);
    }

    @Override
    protected void applyChecked(
            Activations x, Activations y, List<Segment> segments, List<Module> modules) {
        HostActivations hx = host(x);
        HostActivations hy = host(y);
        // One parallel pass over every adapted row, whatever its segment: 64 one-token segments
        // (decode) then use all threads instead of running one after another.
        Module[] rowModule = new Module[x.rows()];
        float[] rowScale = new float[x.rows()];
        for (int s = 0; s < segments.size(); s++) {
            Segment seg = segments.get(s);
            for (int row = seg.firstRow(); row < seg.endRow(); row++) {
                rowModule[row] = modules.get(s);
                rowScale[row] = seg.scale();
            }
        }
        CpuKernels.forEachBlock(
                x.rows(),
                parallelism,
                threads,
                (from, to) -> {
                    for (int row = from; row < to; row++) {
                        if (rowModule[row] != null) {
                            applyRows(hx, hy, rowModule[row], rowScale[row], row, row + 1);
                        }
                    }
                });
    }

    private static void applyRows(
            HostActivations x, HostActivations y, Module m, float scale, int from, int to) {
        ServingFactors f = m.f();
        Precision p = x.precision();
        float[] xRow = new float[f.in()];
        float[] yRow = new float[f.out()];
        float[] t = new float[f.k()];
        for (int row = from; row < to; row++) {
            Numerics.load(x.data(), p, (long) row * f.in(), xRow, 0, f.in());
            for (int j = 0; j < f.k(); j++) {
                t[j] = CpuKernels.dot(m.a()[j], xRow);
            }
            Numerics.load(y.data(), p, (long) row * f.out(), yRow, 0, f.out());
            for (int j = 0; j < f.k(); j++) {
                CpuKernels.axpy(yRow, m.bt()[j], scale * t[j]);
            }
            Numerics.store(yRow, 0, y.data(), p, (long) row * f.out(), f.out());
        }
    }

    private static HostActivations host(Activations a) {
        if (a instanceof HostActivations h) {
            return h;
        }
        throw new IllegalArgumentException(
                "the CPU backend needs HostActivations, got " + a.getClass().getName());
    }
}
