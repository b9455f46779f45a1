package dev.safeload.cli;

import dev.safeload.lora.LayerKind;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.LoraBackend;
import dev.safeload.lora.LoraBackends;
import dev.safeload.lora.LoraModule;
import dev.safeload.lora.ModelMerger;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code safeload lora}: inspect adapters and merge them into base weights (docs/CLI.md). */
@Command(
        name = "lora",
        mixinStandardHelpOptions = true,
        description = "LoRA adapters: inspect them, merge them into base weights.",
        subcommands = {LoraCommand.Inspect.class, LoraCommand.Merge.class})
final class LoraCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return SafeloadCli.EXIT_USAGE;
    }

    /** {@code safeload lora inspect ADAPTER}. */
    @Command(
            name = "inspect",
            mixinStandardHelpOptions = true,
            description = {
                "Show an adapter's format, rank, alpha, scale and target modules.",
                "ADAPTER is a PEFT folder (adapter_config.json + adapter_model.safetensors),",
                "a kohya/diffusers .safetensors file, or a folder holding one."
            })
    static final class Inspect implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ADAPTER")
        Path adapter;

        @Override
        public Integer call() {
            print(LoraAdapter.read(adapter), System.out);
            return 0;
        }

        static void print(LoraAdapter a, PrintStream out) {
            out.println("adapter: " + a.source());
            out.println("format: " + a.format());
            out.println("rank: " + joined(a.ranks()));
            out.println("alpha: " + joined(a.alphas()));
            out.println(
                    "scale: "
                            + joined(a.scales())
                            + (a.config() != null && a.config().useRslora()
                                    ? " (rsLoRA: alpha/sqrt(r))"
                                    : " (alpha/r)"));
            out.println(
                    "dtype: "
                            + a.modules().stream()
                                    .map(m -> m.down().dtype().formatName())
                                    .collect(Collectors.toCollection(TreeSet::new)));
            if (a.config() != null) {
                out.println("target modules: " + a.config().targetModulesText());
                if (a.config().baseModel() != null) {
                    out.println("base model: " + a.config().baseModel());
                }
            } else {
                out.println("target modules: " + a.modules().size() + " modules (listed below)");
            }
            Map<LayerKind, Integer> kinds = new EnumMap<>(LayerKind.class);
            a.modules().forEach(m -> kinds.merge(m.kind(), 1, Integer::sum));
            long dora = a.modules().stream().filter(LoraModule::dora).count();
            out.println(
                    "modules: "
                            + a.modules().size()
                            + " "
                            + kinds.toString().toLowerCase(Locale.ROOT)
                            + (dora > 0 ? ", DoRA " + dora : ""));
            for (LoraModule m : a.modules()) {
                out.printf(
                        Locale.ROOT,
                        "  %s  %s r=%d alpha=%s scale=%s%s%s%n",
                        m.name(),
                        m.kind().name().toLowerCase(Locale.ROOT),
                        m.rank(),
                        number(m.alpha()),
                        number(m.scale()),
                        m.transposed() ? " transposed" : "",
                        m.dora() ? " dora" : "");
            }
            if (!a.wholeTensors().isEmpty()) {
                out.println(
                        "whole tensors (modules_to_save): "
                                + String.join(", ", a.wholeTensors().keySet()));
            }
        }

        private static String joined(java.util.Collection<? extends Number> values) {
            return values.stream()
                    .map(v -> number(v.doubleValue()))
                    .collect(Collectors.joining(", "));
        }

        private static String number(double v) {
            return v == Math.rint(v) && Math.abs(v) < 1e15
                    ? Long.toString((long) v)
                    : String.format(Locale.ROOT, "%.6g", v);
        }
    }

    /**
     * {@code safeload lora merge --base PATH --adapter PATH [--scale S] [--device cpu|cuda] -o
     * OUT}.
     */
    @Command(
            name = "merge",
            mixinStandardHelpOptions = true,
            description = {
                "Write the base weights with the adapter(s) merged in, in the base dtype.",
                "Each weight becomes W + scale·weight_i·(alpha_i/r_i)·B_i·A_i, accumulated in fp32"
                        + " and rounded once.",
                "A single-file base gives one file OUT; a sharded base (folder or index) gives a"
                        + " folder OUT."
            })
    static final class Merge implements Callable<Integer> {
        @Option(
                names = "--base",
                required = true,
                paramLabel = "PATH",
                description = "Base model: .safetensors file, index, or folder.")
        Path base;

        @Option(
                names = "--adapter",
                required = true,
                paramLabel = "PATH",
                description = "Adapter (repeatable).")
        List<Path> adapters = new ArrayList<>();

        @Option(
                names = "--weight",
                paramLabel = "W",
                description = "Weight of each --adapter, in order (default 1).")
        List<Double> weights = new ArrayList<>();

        @Option(
                names = "--scale",
                paramLabel = "S",
                description = "Multiplier on every adapter (default 1).")
        double scale = 1.0;

        @Option(
                names = "--device",
                paramLabel = "DEVICE",
                description = "cpu or cuda (default cpu).")
        String device = "cpu";

        @Option(
                names = {"-o", "--output"},
                required = true,
                paramLabel = "OUT",
                description = "Output file (or folder for a sharded base).")
        Path output;

        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            if (weights.size() > adapters.size()) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        weights.size() + " --weight values for " + adapters.size() + " --adapter");
            }
            if (!device.equals("cpu") && !device.equals("cuda")) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--device must be cpu or cuda, not " + device);
            }
            if (!Double.isFinite(scale)) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--scale must be a finite number");
            }
            List<ModelMerger.WeightedAdapter> list = new ArrayList<>();
            for (int i = 0; i < adapters.size(); i++) {
                list.add(
                        new ModelMerger.WeightedAdapter(
                                LoraAdapter.read(adapters.get(i)),
                                i < weights.size() ? weights.get(i) : 1.0));
            }
            try (LoraBackend backend = LoraBackends.open(device)) {
                ModelMerger.Result r = ModelMerger.merge(base, list, scale, backend, output);
                System.out.printf(
                        Locale.ROOT,
                        "merged %d tensors, replaced %d, copied %d on %s into %s%n",
                        r.merged(),
                        r.replaced(),
                        r.copied(),
                        backend.name(),
                        output);
            }
            return 0;
        }
    }
}
