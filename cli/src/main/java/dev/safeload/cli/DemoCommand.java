package dev.safeload.cli;

import dev.safeload.cache.CacheImporter;
import dev.safeload.cache.CacheMirrorServer;
import dev.safeload.cache.HubClient;
import dev.safeload.cache.HubRepo;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.SnapshotOptions;
import dev.safeload.cuda.Cuda;
import dev.safeload.cuda.CudaContext;
import dev.safeload.cuda.DeviceModel;
import dev.safeload.cuda.ModelUploader;
import dev.safeload.cuda.UploadReport;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.LoraBackend;
import dev.safeload.lora.LoraBackends;
import dev.safeload.lora.ModelMerger;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.TensorInfo;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code safeload demo}: the whole path on a built-in default, offline. A small Llama-shaped model
 * and a PEFT adapter are published into a local cache, served by a loopback mirror, downloaded into
 * a fresh cache through the real resolver (verified), resolved again with the network off, opened
 * and validated as one sharded model, uploaded to the GPU when there is one, merged with the
 * adapter, and the merged model written, reopened and checked against an fp64 reference. Nothing
 * leaves the machine.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description =
                "Run the main job offline on a built-in model: mirror -> cache -> safetensors ->"
                        + " GPU -> LoRA merge.")
final class DemoCommand implements Callable<Integer> {
    @Option(
            names = "--cache-dir",
            paramLabel = "DIR",
            description =
                    "Hub cache to download into (default: a temporary folder, removed afterwards).")
    Path cacheDir;

    @Option(
            names = "--device",
            paramLabel = "auto|cpu|cuda",
            defaultValue = "auto",
            description =
                    "Where to upload and merge (default: ${DEFAULT-VALUE}: cuda when a CUDA device"
                            + " is usable).")
    String device;

    @Option(names = "--keep", description = "Keep the temporary folder (printed at the end).")
    boolean keep;

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        DemoModel model = DemoModel.DEFAULT;
        boolean cuda =
                switch (device.toLowerCase(Locale.ROOT)) {
                    case "cuda" -> {
                        Cuda.require();
                        yield true;
                    }
                    case "cpu" -> false;
                    case "auto" -> Cuda.isAvailable();
                    default ->
                            throw new picocli.CommandLine.ParameterException(
                                    new picocli.CommandLine(this),
                                    "--device must be auto, cpu or cuda, not '" + device + "'");
                };
        Path work = Files.createTempDirectory("safeload-demo-");
        try {
            Path cache = cacheDir != null ? cacheDir : work.resolve("hub");
            Path published = publish(model, work, out);
            Path snapshot;
            Path adapterSnapshot;
            try (CacheMirrorServer mirror =
                    CacheMirrorServer.start(new CacheMirrorServer.Options(published))) {
                out.printf(
                        Locale.ROOT,
                        "mirror    : serving the built-in repos at %s (loopback only)%n",
                        mirror.uri());
                HubSettings online =
                        HubSettings.builder().cacheDir(cache).endpoint(mirror.uri()).build();
                long t0 = System.nanoTime();
                try (HubClient client = new HubClient(online)) {
                    snapshot =
                            client.snapshotDownload(
                                    HubRepo.model(DemoModel.MODEL_REPO),
                                    "main",
                                    SnapshotOptions.defaults()
                                            .withInclude("*.safetensors", "*.json"));
                    adapterSnapshot =
                            client.snapshotDownload(
                                    HubRepo.model(DemoModel.ADAPTER_REPO),
                                    "main",
                                    SnapshotOptions.defaults());
                }
                out.printf(
                        Locale.ROOT,
                        "download  : %s and its adapter into %s in %.0f ms (size and sha256"
                                + " verified)%n",
                        DemoModel.MODEL_REPO,
                        cache,
                        (System.nanoTime() - t0) / 1e6);
            }
            // The mirror is gone: resolving again must come from the cache alone.
            HubSettings offline = HubSettings.builder().cacheDir(cache).offline(true).build();
            try (HubClient client = new HubClient(offline)) {
                Path again =
                        client.snapshotDownload(
                                HubRepo.model(DemoModel.MODEL_REPO),
                                "main",
                                SnapshotOptions.defaults());
                if (!again.equals(snapshot)) {
                    throw new IllegalStateException(
                            "offline resolution gave " + again + ", online gave " + snapshot);
                }
            }
            out.printf(
                    Locale.ROOT,
                    "offline   : resolved %s@main again with the mirror stopped -> %s%n",
                    DemoModel.MODEL_REPO,
                    snapshot);

            try (SafetensorsModel base = SafetensorsModel.open(snapshot)) {
                long bytes = base.tensors().stream().mapToLong(TensorInfo::byteLength).sum();
                out.printf(
                        Locale.ROOT,
                        "open      : %d tensors in %d shards, %.1f MiB, every header validated%n",
                        base.tensors().size(),
                        base.files().size(),
                        bytes / 1048576.0);
                if (cuda) {
                    upload(base, out);
                } else {
                    out.printf(
                            Locale.ROOT,
                            "gpu       : skipped (%s)%n",
                            device.equalsIgnoreCase("cpu")
                                    ? "--device cpu"
                                    : Cuda.unavailableReason().orElse("no CUDA device"));
                }
            }

            LoraAdapter adapter = LoraAdapter.read(adapterSnapshot);
            Path merged = work.resolve("merged");
            long t1 = System.nanoTime();
            ModelMerger.Result result;
            try (LoraBackend backend = cuda ? LoraBackends.open("cuda") : LoraBackends.cpu()) {
                result =
                        ModelMerger.merge(
                                snapshot,
                                List.of(new ModelMerger.WeightedAdapter(adapter, 1.0)),
                                1.0,
                                backend,
                                merged);
            }
            out.printf(
                    Locale.ROOT,
                    "lora      : merged %d modules (r=%d, alpha=%d, scale %.2f) on %s in %.0f ms ->"
                            + " %s%n",
                    result.merged(),
                    model.rank(),
                    model.alpha(),
                    model.scale(),
                    cuda ? "cuda" : "cpu",
                    (System.nanoTime() - t1) / 1e6,
                    merged);
            DemoCheck.Outcome check = DemoCheck.compare(snapshot, adapterSnapshot, merged, model);
            out.printf(
                    Locale.ROOT,
                    "check     : %d merged weights reopened; worst error %.3f F16 ulp against an"
                            + " fp64 W + s*B*A (limit 1)%n",
                    check.modules(),
                    check.worstUlps());
            if (check.worstUlps() > 1.0) {
                System.err.printf(
                        Locale.ROOT,
                        "demo: merged weight %s is off by %.2f ulp%n",
                        check.worstModule(),
                        check.worstUlps());
                return SafeloadCli.EXIT_FAILED;
            }
            out.println("demo      : ok");
            return 0;
        } finally {
            if (keep) {
                out.println("kept      : " + work);
            } else {
                deleteTree(work);
            }
        }
    }

    /**
     * Writes the built-in model and adapter and imports them into a source cache for the mirror.
     */
    private static Path publish(DemoModel model, Path work, PrintStream out) {
        Path source = work.resolve("published");
        model.writeModel(work.resolve("src/model"));
        model.writeAdapter(work.resolve("src/adapter"));
        String commit =
                CacheImporter.importFolder(
                        source,
                        HubRepo.model(DemoModel.MODEL_REPO),
                        work.resolve("src/model"),
                        "main");
        CacheImporter.importFolder(
                source, HubRepo.model(DemoModel.ADAPTER_REPO), work.resolve("src/adapter"), "main");
        out.printf(
                Locale.ROOT,
                "model     : built-in %s (%d layers, hidden %d, F16, 2 shards) at commit %s%n",
                DemoModel.MODEL_REPO,
                model.layers(),
                model.hidden(),
                commit.substring(0, 12));
        return source;
    }

    private static void upload(SafetensorsModel base, PrintStream out) {
        try (CudaContext context = CudaContext.open(0);
                DeviceModel onDevice = ModelUploader.builder().build().upload(context, base)) {
            UploadReport r = onDevice.report();
            out.printf(
                    Locale.ROOT,
                    "gpu       : %d tensors, %.1f MiB uploaded to %s at %.2f GB/s%n",
                    r.tensors(),
                    r.bytesTransferred() / 1048576.0,
                    context.device(),
                    r.gigabytesPerSecond());
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + root, e);
        }
    }
}
