package dev.safeload.cli;

import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.SafetensorsModel;

import java.nio.file.Path;

/**
 * Checks the demo's merged model against an independent fp64 computation of {@code W + s·B·A} for
 * every adapted module: the merge accumulates in fp32 and rounds once to F16, so each element must
 * be within one F16 ulp of the fp64 value.
 */
final class DemoCheck {
    record Outcome(int modules, double worstUlps, String worstModule) {}

    private DemoCheck() {}

    static Outcome compare(Path base, Path adapterDir, Path merged, DemoModel model) {
        double worst = 0;
        String worstModule = "";
        int modules = 0;
        try (SafetensorsModel before = SafetensorsModel.open(base);
                SafetensorsModel after = SafetensorsModel.open(merged);
                SafetensorsFile adapter =
                        SafetensorsFile.open(adapterDir.resolve("adapter_model.safetensors"))) {
            for (int layer = 0; layer < model.layers(); layer++) {
                for (String proj : DemoModel.ADAPTED) {
                    String module = "model.layers." + layer + ".self_attn." + proj;
                    float[] w = before.tensor(module + ".weight").toFloatArray();
                    float[] m = after.tensor(module + ".weight").toFloatArray();
                    float[] a =
                            adapter.tensor("base_model.model." + module + ".lora_A.weight")
                                    .toFloatArray();
                    float[] b =
                            adapter.tensor("base_model.model." + module + ".lora_B.weight")
                                    .toFloatArray();
                    double err =
                            worstUlps(
                                    w,
                                    m,
                                    a,
                                    b,
                                    model.hidden(),
                                    model.hidden(),
                                    model.rank(),
                                    model.scale());
                    modules++;
                    if (err > worst) {
                        worst = err;
                        worstModule = module;
                    }
                }
            }
        }
        return new Outcome(modules, worst, worstModule);
    }

    /**
     * The largest error of {@code merged} against fp64 {@code w + s·b·a}, in F16 ulps of the exact
     * value.
     */
    static double worstUlps(
            float[] w,
            float[] merged,
            float[] a,
            float[] b,
            int out,
            int in,
            int rank,
            double scale) {
        double worst = 0;
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double delta = 0;
                for (int r = 0; r < rank; r++) {
                    delta += (double) b[o * rank + r] * a[r * in + i];
                }
                double exact = w[o * in + i] + scale * delta;
                worst = Math.max(worst, Math.abs(merged[o * in + i] - exact) / f16Ulp(exact));
            }
        }
        return worst;
    }

    /**
     * The spacing of F16 values around {@code x}: 2^(e-10) for normal values, 2^-24 below 2^-14.
     */
    static double f16Ulp(double x) {
        double ax = Math.abs(x);
        if (ax < 0x1p-14) {
            return 0x1p-24;
        }
        return Math.scalb(1.0, Math.getExponent(ax) - 10);
    }
}
