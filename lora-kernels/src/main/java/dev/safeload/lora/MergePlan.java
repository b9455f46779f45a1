package dev.safeload.lora;

import dev.safeload.lora.internal.LinearLayout;
import dev.safeload.lora.internal.ModuleResolver;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What merging a set of adapters into a base model changes, bound to the base's tensor names and
 * checked against its shapes and dtypes before any weight is touched: every misfit (a module the
 * base lacks, a shape that does not fit, a dtype LoRA cannot merge into) is reported here, naming
 * the module and both shapes.
 *
 * <p>Each adapter contributes {@code globalScale · weight · scale_module · B·A} to its weights
 * (PEFT {@code get_delta_weight}, docs/lora.md §1.5-1.6); whole tensors saved with the adapter
 * ({@code modules_to_save}) replace the base tensor.
 */
public final class MergePlan {
    private final Map<String, MergeTarget> targets;
    private final Map<String, AdapterTensor> replacements;

    private MergePlan(Map<String, MergeTarget> targets, Map<String, AdapterTensor> replacements) {
        this.targets = Collections.unmodifiableMap(targets);
        this.replacements = Collections.unmodifiableMap(replacements);
    }

    /** One adapter at {@code scale} (a multiplier on the adapter's own alpha/r). */
    public static MergePlan of(Collection<WeightSpec> base, LoraAdapter adapter, double scale) {
        return builder(base).add(adapter, 1.0).globalScale(scale).build();
    }

    public static Builder builder(Collection<WeightSpec> base) {
        return new Builder(base);
    }

    /** The tensors that change, by base tensor name, in the order adapters named them. */
    public Map<String, MergeTarget> targets() {
        return targets;
    }

    /** The target for {@code weightName}, or null if no adapter changes it. */
    public MergeTarget target(String weightName) {
        return targets.get(weightName);
    }

    /** Whole tensors that replace base tensors, by base tensor name. */
    public Map<String, AdapterTensor> replacements() {
        return replacements;
    }

    /** Collects adapters with their weights and builds a checked plan. */
    public static final class Builder {
        private final Collection<WeightSpec> base;
        private final List<Map.Entry<LoraAdapter, Double>> adapters = new ArrayList<>();
        private double globalScale = 1.0;

        private Builder(Collection<WeightSpec> base) {
            this.base = List.copyOf(base);
        }

        /** Adds an adapter whose delta is multiplied by {@code weight}. */
        public Builder add(LoraAdapter adapter, double weight) {
            adapters.add(Map.entry(adapter, weight));
            return this;
        }

        /** A multiplier on every adapter (diffusers' {@code lora_scale}). Default 1. */
        public Builder globalScale(double scale) {
            if (!Double.isFinite(scale)) {
                throw new IllegalArgumentException("scale must be finite: " + scale);
            }
            this.globalScale = scale;
            return this;
        }

        public MergePlan build() {
            ModuleResolver resolver = new ModuleResolver(base);
            Map<String, List<Term>> terms = new LinkedHashMap<>();
            Map<String, AdapterTensor> replacements = new LinkedHashMap<>();
            for (Map.Entry<LoraAdapter, Double> entry : adapters) {
                LoraAdapter adapter = entry.getKey();
                double factor = globalScale * entry.getValue();
                List<LoraModule> modules = adapter.modules();
                List<WeightSpec> weights =
                        modules.stream()
                                .map(m -> resolver.weightOf(m, adapter.format(), adapter.source()))
                                .toList();
                if (adapter.format() == AdapterFormat.PEFT) {
                    modules = LinearLayout.fit(modules, weights);
                }
                for (int i = 0; i < modules.size(); i++) {
                    LoraModule module = modules.get(i);
                    WeightSpec weight = weights.get(i);
                    checkFits(adapter, module, weight);
                    terms.computeIfAbsent(weight.name(), k -> new ArrayList<>())
                            .add(
                                    Term.of(
                                            adapter,
                                            module,
                                            weight,
                                            (float) (factor * module.scale())));
                    if (module.upBias() != null) {
                        String biasName =
                                weight.name()
                                                .substring(
                                                        0,
                                                        weight.name().length() - "weight".length())
                                        + "bias";
                        WeightSpec bias = resolver.tensor(biasName);
                        if (bias == null) {
                            throw LoraException.of(
                                    LoraError.MissingModule,
                                    "%s: module %s has lora_B.bias but the base has no %s",
                                    adapter.source(),
                                    module.name(),
                                    biasName);
                        }
                        checkReplacementOrBias(
                                adapter,
                                module.name(),
                                bias,
                                module.upBias().shape(),
                                new long[] {module.outFeatures()});
                        terms.computeIfAbsent(bias.name(), k -> new ArrayList<>())
                                .add(
                                        Term.bias(
                                                adapter,
                                                module,
                                                bias,
                                                (float) (factor * module.scale())));
                    }
                }
                for (Map.Entry<String, AdapterTensor> whole : adapter.wholeTensors().entrySet()) {
                    WeightSpec target = wholeTarget(resolver, whole.getKey(), adapter);
                    checkReplacementOrBias(
                            adapter,
                            whole.getKey(),
                            target,
                            whole.getValue().shape(),
                            target.shape());
                    replacements.put(target.name(), whole.getValue());
                }
            }
            Map<String, MergeTarget> targets = new LinkedHashMap<>();
            terms.forEach((name, list) -> targets.put(name, toTarget(list)));
            return new MergePlan(targets, replacements);
        }

        private static WeightSpec wholeTarget(
                ModuleResolver resolver, String name, LoraAdapter adapter) {
            WeightSpec exact = resolver.tensor(name);
            if (exact != null) {
                return exact;
            }
            int dot = name.lastIndexOf('.');
            String module = resolver.peftModule(name.substring(0, dot), adapter.source());
            WeightSpec spec = resolver.tensor(module + name.substring(dot));
            if (spec == null) {
                throw LoraException.of(
                        LoraError.MissingModule,
                        "%s: saved tensor %s has no counterpart in the base model",
                        adapter.source(),
                        name);
            }
            return spec;
        }

        private static void checkFits(LoraAdapter adapter, LoraModule module, WeightSpec weight) {
            long[] expected = module.expectedWeightShape();
            if (!Arrays.equals(squeeze(expected), squeeze(weight.shape()))) {
                throw LoraException.of(
                        LoraError.ShapeMismatch,
                        "%s: module %s does not fit %s: base shape %s, adapter needs %s (A %s, B"
                                + " %s%s)",
                        adapter.source(),
                        module.name(),
                        weight.name(),
                        weight.shapeText(),
                        Arrays.toString(expected),
                        module.down().shapeText(),
                        module.up().shapeText(),
                        module.transposed() ? ", transposed" : "");
            }
            Precision.of(
                    weight.dtype(),
                    adapter.source()
                            + ": module "
                            + module.name()
                            + ": base weight "
                            + weight.name());
            if ((long) weight.shape()[0] > Integer.MAX_VALUE
                    || weight.elementCount() / weight.shape()[0] > Integer.MAX_VALUE) {
                throw LoraException.of(
                        LoraError.Unsupported,
                        "%s: base weight %s %s is too large for one merge",
                        adapter.source(),
                        weight.name(),
                        weight.shapeText());
            }
        }

        private static void checkReplacementOrBias(
                LoraAdapter adapter, String what, WeightSpec target, long[] have, long[] need) {
            if (!Arrays.equals(squeeze(have), squeeze(target.shape()))
                    || !Arrays.equals(squeeze(need), squeeze(target.shape()))) {
                throw LoraException.of(
                        LoraError.ShapeMismatch,
                        "%s: %s does not fit %s: base shape %s, adapter has %s",
                        adapter.source(),
                        what,
                        target.name(),
                        target.shapeText(),
                        Arrays.toString(have));
            }
            Precision.of(
                    target.dtype(),
                    adapter.source() + ": " + what + ": base tensor " + target.name());
        }

        /**
         * Drops trailing 1-dims past the second: a 1×1 conv and a linear layer have the same delta.
         */
        private static long[] squeeze(long[] shape) {
            int n = shape.length;
            while (n > 2 && shape[n - 1] == 1) {
                n--;
            }
            return n == shape.length ? shape : Arrays.copyOf(shape, n);
        }

        private static MergeTarget toTarget(List<Term> terms) {
            Term first = terms.getFirst();
            List<MergeTarget.Step> steps = new ArrayList<>();
            List<Term> plain = new ArrayList<>();
            List<String> contributors = new ArrayList<>();
            for (Term t : terms) {
                contributors.add(t.adapter + ": " + t.module);
                if (t.magnitude == null) {
                    plain.add(t);
                    continue;
                }
                if (!plain.isEmpty()) {
                    steps.add(fold(plain, first.rows, first.cols, null));
                    plain.clear();
                }
                steps.add(fold(List.of(t), first.rows, first.cols, t.magnitude));
            }
            if (!plain.isEmpty()) {
                steps.add(fold(plain, first.rows, first.cols, null));
            }
            return new MergeTarget(
                    first.weight,
                    Precision.of(first.weight.dtype(), first.weight.name()),
                    first.rows,
                    first.cols,
                    first.outputsAreRows,
                    steps,
                    contributors);
        }

        /** Concatenates the terms along k: [L1 L2 ...] · [R1; R2; ...] = Σ Li·Ri. */
        private static MergeTarget.Step fold(
                List<Term> terms, int rows, int cols, float[] magnitude) {
            int k = terms.stream().mapToInt(t -> t.k).sum();
            float[] left = new float[Math.multiplyExact(rows, k)];
            float[] right = new float[Math.multiplyExact(k, cols)];
            int offset = 0;
            for (Term t : terms) {
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(t.left, r * t.k, left, r * k + offset, t.k);
                }
                System.arraycopy(t.right, 0, right, offset * cols, t.k * cols);
                offset += t.k;
            }
            return new MergeTarget.Step(left, right, k, magnitude);
        }
    }

    /**
     * One module's delta as {@code left (rows×k) · right (k×cols)} in the weight's storage layout.
     */
    private record Term(
            String adapter,
            String module,
            WeightSpec weight,
            int rows,
            int cols,
            boolean outputsAreRows,
            int k,
            float[] left,
            float[] right,
            float[] magnitude) {

        static Term of(LoraAdapter adapter, LoraModule m, WeightSpec weight, float scale) {
            int r = m.rank();
            int out = Math.toIntExact(m.outFeatures());
            int in = Math.toIntExact(m.inFeatures());
            float[] a = m.down().values();
            float[] b = m.up().values();
            float[] magnitude = m.magnitude() == null ? null : m.magnitude().values();
            if (!m.transposed()) {
                // W (out × in) += (s·B) (out × r) · A (r × in)
                float[] left = new float[out * r];
                for (int i = 0; i < left.length; i++) {
                    left[i] = scale * b[i];
                }
                return new Term(
                        adapter.source(), m.name(), weight, out, in, true, r, left, a, magnitude);
            }
            // W (in × out) += Aᵀ (in × r) · (s·B)ᵀ (r × out): fan_in_fan_out and embeddings
            // (docs/lora.md §4.3)
            float[] left = new float[in * r];
            float[] right = new float[r * out];
            for (int k = 0; k < r; k++) {
                for (int i = 0; i < in; i++) {
                    left[i * r + k] = a[k * in + i];
                }
                for (int o = 0; o < out; o++) {
                    right[k * out + o] = scale * b[o * r + k];
                }
            }
            return new Term(
                    adapter.source(), m.name(), weight, in, out, false, r, left, right, magnitude);
        }

        /**
         * bias (1 × out) += 1 · (s·bias_B): PEFT adds {@code scaling · lora_B.bias} to the base
         * bias.
         */
        static Term bias(LoraAdapter adapter, LoraModule m, WeightSpec bias, float scale) {
            float[] upBias = m.upBias().values();
            float[] right = new float[upBias.length];
            for (int i = 0; i < right.length; i++) {
                right[i] = scale * upBias[i];
            }
            return new Term(
                    adapter.source(),
                    m.name() + " (lora_B.bias)",
                    bias,
                    1,
                    upBias.length,
                    false,
                    1,
                    new float[] {1f},
                    right,
                    null);
        }
    }
}
