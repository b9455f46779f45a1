package dev.safeload.lora;

import dev.safeload.lora.internal.Numerics;
import dev.safeload.safetensors.DType;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/** Random adapters and base weights with a printed seed, plus an fp64 reference of the merge. */
final class Fixtures {
    final long seed;
    final SplittableRandom random;

    Fixtures() {
        this(ThreadLocalRandom.current().nextLong());
    }

    Fixtures(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    /** Appended to every assertion message so a failure can be replayed. */
    String seedText() {
        return " [seed=" + seed + "L]";
    }

    /**
     * Gaussian values scaled by {@code std}, already rounded to {@code dtype} so files hold them
     * exactly.
     */
    float[] values(long n, double std, Precision dtype) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = Numerics.round((float) (gaussian() * std), dtype);
        }
        return v;
    }

    AdapterTensor tensor(Precision dtype, double std, long... shape) {
        return new AdapterTensor(dtype.dtype(), shape, values(count(shape), std, dtype));
    }

    static AdapterTensor scalar(float value) {
        return new AdapterTensor(DType.F32, new long[0], new float[] {value});
    }

    double gaussian() {
        double u = 1 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    static long count(long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** A base weight: spec plus its little-endian bytes. */
    record Weight(WeightSpec spec, float[] values, MemorySegment bytes) {}

    Weight weight(String name, Precision dtype, long... shape) {
        float[] v = values(count(shape), 0.02, dtype);
        return new Weight(
                new WeightSpec(name, dtype.dtype(), shape),
                v,
                MemorySegment.ofArray(Numerics.encode(v, dtype)));
    }

    /** PEFT keys for a linear module {@code base_model.model.<module>.lora_A/B.weight}. */
    Map<String, AdapterTensor> peftLinear(
            String module, int r, long in, long out, Precision dtype) {
        Map<String, AdapterTensor> m = new LinkedHashMap<>();
        m.put("base_model.model." + module + ".lora_A.weight", tensor(dtype, 0.05, r, in));
        m.put("base_model.model." + module + ".lora_B.weight", tensor(dtype, 0.05, out, r));
        return m;
    }

    static String config(int r, double alpha, String extra) {
        return "{\"peft_type\": \"LORA\", \"r\": "
                + r
                + ", \"lora_alpha\": "
                + alpha
                + (extra.isEmpty() ? "" : ", " + extra)
                + "}";
    }

    /**
     * fp64 reference of one module's delta in storage layout: {@code scale · B·A}, transposed if
     * {@code transposed}; rows × cols row-major.
     */
    static double[] delta(LoraModule m, double scale) {
        int r = m.rank();
        int in = Math.toIntExact(m.inFeatures());
        int out = Math.toIntExact(m.outFeatures());
        float[] a = m.down().values();
        float[] b = m.up().values();
        double[] d = new double[in * out];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int k = 0; k < r; k++) {
                    s += (double) b[o * r + k] * a[k * in + i];
                }
                if (m.transposed()) {
                    d[i * out + o] = scale * s;
                } else {
                    d[o * in + i] = scale * s;
                }
            }
        }
        return d;
    }

    static double[] widen(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    static void add(double[] acc, double[] d) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += d[i];
        }
    }

    /** DoRA in fp64: each output (row, or column when transposed) scaled to magnitude / norm. */
    static void dora(double[] w, int rows, int cols, boolean outputsAreRows, float[] magnitude) {
        int outputs = outputsAreRows ? rows : cols;
        for (int o = 0; o < outputs; o++) {
            double sum = 0;
            int n = outputsAreRows ? cols : rows;
            for (int j = 0; j < n; j++) {
                double v = outputsAreRows ? w[o * cols + j] : w[j * cols + o];
                sum += v * v;
            }
            double f = magnitude[o] / Math.sqrt(sum);
            for (int j = 0; j < n; j++) {
                if (outputsAreRows) {
                    w[o * cols + j] *= f;
                } else {
                    w[j * cols + o] *= f;
                }
            }
        }
    }

    /** Norm-wise relative error ‖got − ref‖ / ‖ref‖. */
    static double relativeError(float[] got, double[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            double e = got[i] - ref[i];
            num += e * e;
            den += ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }

    /**
     * Largest |got − ref| over max |ref|: catches a single wrong element that the norm would hide.
     */
    static double maxError(float[] got, double[] ref) {
        double err = 0;
        double max = 0;
        for (int i = 0; i < ref.length; i++) {
            err = Math.max(err, Math.abs(got[i] - ref[i]));
            max = Math.max(max, Math.abs(ref[i]));
        }
        return err / max;
    }

    /** The tolerance the issue sets: 1e-3 for F16 (and F32), 1e-2 for BF16. */
    static double tolerance(Precision p) {
        return p == Precision.BF16 ? 1e-2 : 1e-3;
    }
}
