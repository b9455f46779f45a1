package dev.safeload.lora.internal;

import dev.safeload.lora.LoraError;
import dev.safeload.lora.LoraException;
import dev.safeload.lora.MergeTarget;
import dev.safeload.lora.Precision;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * The CPU arithmetic. Merging is memory-bound (rank ≪ width): each weight row is read once, widened
 * to fp32, gets {@code Σ_k left[row][k] · right[k][:]} as k axpy passes over a row that stays in L1
 * while {@code right} (k × cols fp32, 256 KiB for k = 16, cols = 4096) stays in L2, and is rounded
 * once on the way back. Rows are split into blocks run on the backend's threads.
 */
public final class CpuKernels {
    private CpuKernels() {}

    /** {@code W += sign · Σ steps} in place (DoRA only with sign = +1). */
    public static void merge(
            MemorySegment w, MergeTarget t, float sign, ExecutorService threads, int parallelism) {
        if (t.hasDora()) {
            mergeDense(w, t, threads, parallelism);
            return;
        }
        int rows = t.rows();
        int cols = t.cols();
        Precision p = t.precision();
        List<float[][]> rights =
                t.steps().stream().map(s -> rowsOf(s.right(), s.k(), cols)).toList();
        forEachBlock(
                rows,
                parallelism,
                threads,
                (from, to) -> {
                    float[] acc = new float[cols];
                    for (int r = from; r < to; r++) {
                        long index = (long) r * cols;
                        Numerics.load(w, p, index, acc, 0, cols);
                        for (int s = 0; s < rights.size(); s++) {
                            addRow(acc, t.steps().get(s), rights.get(s), r, sign);
                        }
                        Numerics.store(acc, 0, w, p, index, cols);
                    }
                });
    }

    /**
     * DoRA: the norms need the whole updated weight, so it is widened to fp32 first, every step is
     * applied, and it is rounded once at the end.
     *
     * <p>A DoRA step after other steps follows peft's merge of several adapters (lora/variants.py
     * DoraLinearVariant.merge_unsafe under layer.py {@code _unmerged_base_weight}): its norms are
     * those of the weight before this merge plus its own delta, as its forward pass sees them, and
     * its magnitude / norm scales the weight so far plus that delta.
     */
    private static void mergeDense(
            MemorySegment w, MergeTarget t, ExecutorService threads, int parallelism) {
        int rows = t.rows();
        int cols = t.cols();
        float[] full = new float[Math.toIntExact(t.elementCount())];
        Numerics.load(w, t.precision(), 0, full, 0, full.length);
        List<MergeTarget.Step> steps = t.steps();
        boolean doraAfterOthers = steps.stream().skip(1).anyMatch(MergeTarget.Step::dora);
        float[] original = doraAfterOthers ? full.clone() : null;
        for (int s = 0; s < steps.size(); s++) {
            MergeTarget.Step step = steps.get(s);
            float[][] right = rowsOf(step.right(), step.k(), cols);
            add(full, step, right, rows, cols, threads, parallelism);
            if (step.dora()) {
                float[] normed = full;
                if (s > 0) {
                    normed = original.clone();
                    add(normed, step, right, rows, cols, threads, parallelism);
                }
                rescaleOutputs(full, normed, rows, cols, t.outputsAreRows(), step.magnitude());
            }
        }
        Numerics.store(full, 0, w, t.precision(), 0, full.length);
    }

    /** {@code full += left · right} of one step. */
    private static void add(
            float[] full,
            MergeTarget.Step step,
            float[][] right,
            int rows,
            int cols,
            ExecutorService threads,
            int parallelism) {
        forEachBlock(
                rows,
                parallelism,
                threads,
                (from, to) -> {
                    float[] acc = new float[cols];
                    for (int r = from; r < to; r++) {
                        System.arraycopy(full, r * cols, acc, 0, cols);
                        addRow(acc, step, right, r, 1f);
                        System.arraycopy(acc, 0, full, r * cols, cols);
                    }
                });
    }

    /**
     * {@code W[o] *= m[o] / ‖N[o]‖₂} per output o, N the weight the norms are taken of (PEFT
     * dora.py get_weight_norm; norms in fp64).
     */
    private static void rescaleOutputs(
            float[] full,
            float[] normed,
            int rows,
            int cols,
            boolean outputsAreRows,
            float[] magnitude) {
        if (outputsAreRows) {
            for (int r = 0; r < rows; r++) {
                double sum = 0;
                for (int c = 0; c < cols; c++) {
                    float v = normed[r * cols + c];
                    sum += (double) v * v;
                }
                float factor = (float) (magnitude[r] / Math.sqrt(sum));
                for (int c = 0; c < cols; c++) {
                    full[r * cols + c] *= factor;
                }
            }
            return;
        }
        double[] sums = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = normed[r * cols + c];
                sums[c] += (double) v * v;
            }
        }
        float[] factors = new float[cols];
        for (int c = 0; c < cols; c++) {
            factors[c] = (float) (magnitude[c] / Math.sqrt(sums[c]));
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                full[r * cols + c] *= factors[c];
            }
        }
    }

    private static void addRow(
            float[] acc, MergeTarget.Step step, float[][] right, int row, float sign) {
        float[] left = step.left();
        int k = step.k();
        int base = row * k;
        int j = 0;
        // Four rank components per pass: one load and store of acc per four FMAs, the loop that
        // keeps the merge near memory speed instead of L1-store bound.
        for (; j + 4 <= k; j += 4) {
            axpy4(
                    acc,
                    right[j],
                    right[j + 1],
                    right[j + 2],
                    right[j + 3],
                    sign * left[base + j],
                    sign * left[base + j + 1],
                    sign * left[base + j + 2],
                    sign * left[base + j + 3]);
        }
        for (; j < k; j++) {
            axpy(acc, right[j], sign * left[base + j]);
        }
    }

    /** {@code acc[i] += a·x[i] + b·y[i] + c·z[i] + d·w[i]}. */
    static void axpy4(
            float[] acc,
            float[] x,
            float[] y,
            float[] z,
            float[] w,
            float a,
            float b,
            float c,
            float d) {
        int n = acc.length;
        for (int i = 0; i < n; i++) {
            acc[i] += a * x[i] + b * y[i] + c * z[i] + d * w[i];
        }
    }

    /**
     * Splits a row-major {@code k × cols} matrix into its rows. Both axpy operands then start at
     * index 0: with an offset into one of them C2 cannot rule out overlap with a loop-carried
     * distance and does not vectorise the loop (measured: ~10x slower merges).
     */
    static float[][] rowsOf(float[] m, int k, int cols) {
        float[][] rows = new float[k][];
        for (int j = 0; j < k; j++) {
            rows[j] = java.util.Arrays.copyOfRange(m, j * cols, (j + 1) * cols);
        }
        return rows;
    }

    /** {@code acc[i] += a · x[i]}; a plain counted loop the JIT vectorises. */
    static void axpy(float[] acc, float[] x, float a) {
        int n = acc.length;
        for (int i = 0; i < n; i++) {
            acc[i] += a * x[i];
        }
    }

    /**
     * Dot product of two equally long arrays, eight partial sums so the JIT can keep them in lanes.
     */
    static float dot(float[] x, float[] y) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int n = x.length;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            s0 += x[i] * y[i];
            s1 += x[i + 1] * y[i + 1];
            s2 += x[i + 2] * y[i + 2];
            s3 += x[i + 3] * y[i + 3];
            s4 += x[i + 4] * y[i + 4];
            s5 += x[i + 5] * y[i + 5];
            s6 += x[i + 6] * y[i + 6];
            s7 += x[i + 7] * y[i + 7];
        }
        float s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        for (; i < n; i++) {
            s += x[i] * y[i];
        }
        return s;
    }

    /** A row range task. */
    @FunctionalInterface
    public interface RowBlock {
        void run(int from, int to);
    }

    /**
     * Runs {@code block} over {@code [0, rows)} split into about 4 blocks per thread, and waits.
     */
    public static void forEachBlock(
            int rows, int parallelism, ExecutorService threads, RowBlock block) {
        int blocks = Math.max(1, Math.min(rows, parallelism * 4));
        if (blocks == 1 || parallelism == 1) {
            block.run(0, rows);
            return;
        }
        List<Future<?>> futures = new ArrayList<>(blocks);
        for (int b = 0; b < blocks; b++) {
            int from = (int) ((long) rows * b / blocks);
            int to = (int) ((long) rows * (b + 1) / blocks);
            futures.add(threads.submit(() -> block.run(from, to)));
        }
        try {
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new LoraException(LoraError.BackendFailure, "interrupted while merging", e);
        } catch (ExecutionException e) {
            futures.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new LoraException(
                    LoraError.BackendFailure, "CPU worker failed: " + e.getCause(), e.getCause());
        }
    }
}
