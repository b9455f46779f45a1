package dev.safeload.loader;

import dev.safeload.Cleanup;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.SnapshotOptions;
import dev.safeload.cuda.ModelUploader;
import dev.safeload.loader.internal.CudaPlacement;
import dev.safeload.loader.internal.DeviceCheck;
import dev.safeload.loader.internal.HostPlacement;
import dev.safeload.loader.internal.ModelOpener;
import dev.safeload.loader.internal.ModelResolver;
import dev.safeload.loader.internal.Placement;
import dev.safeload.loader.internal.SourceLayout;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.safetensors.ReadOptions;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.TensorInfo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The library's entry point: takes a model from the hub (through the hub cache Python shares,
 * downloading what is missing, or offline), a local folder, index or file, opens and validates it,
 * and places it on the CPU or a CUDA device as one {@link LoadedModel}.
 *
 * {@snippet :
 * ModelLoader loader = ModelLoader.builder()
 *         .device(Device.parse("cuda:0"))
 *         .hub(HubSettings.builder().offline(true).build())
 *         .build();
 * try (LoadedModel model = loader.load("org/model")) {   // or a path
 *     model.adapters().merge(loader.readAdapter("/adapters/chat"), 0.8);
 *     LoadedTensor embed = model.tensor("model.embed_tokens.weight");
 * }
 * }
 *
 * <p>{@link #load} runs four stages that can also be run one by one, so a caller can put its own
 * step between them: {@link #resolve}, {@link #open}, {@link #place}, and then {@link
 * LoadedModel#adapters()}. A CUDA device is checked before anything is resolved: asking for one
 * where there is none fails with {@link LoaderError#NoDevice} and downloads nothing.
 *
 * <p>A loader holds only configuration: it is immutable and thread-safe, and each load is
 * independent.
 */
public final class ModelLoader {
    /** What a snapshot download fetches by default: the weights, the index, the configs. */
    public static final List<String> DEFAULT_INCLUDE = List.of("*.safetensors", "*.json");

    private final Supplier<HubSettings> hub;
    private final SnapshotOptions snapshot;
    private final Device device;
    private final ReadOptions readOptions;
    private final ModelUploader uploader;
    private final int hostThreads;
    private final LoadListener listener;

    private ModelLoader(Builder b) {
        this.hub = b.hub;
        this.snapshot = b.snapshot;
        this.device = b.device;
        this.readOptions = b.readOptions;
        this.uploader = b.uploader;
        this.hostThreads = b.hostThreads;
        this.listener = b.listener;
    }

    /**
     * A builder with the defaults: the CPU, hub settings from the environment, every {@code
     * .safetensors} and {@code .json} file of a repo, memory-mapped reads.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The device this loader places models on.
     *
     * @return the device
     */
    public Device device() {
        return device;
    }

    /**
     * Loads a model named as a user types it ({@link ModelRef#parse}: a repo id at {@code main}, or
     * a path, or a URI).
     *
     * @param model the repo id, path or URI
     * @return the placed model; the caller closes it
     */
    public LoadedModel load(String model) {
        return load(ModelRef.parse(model, "main"));
    }

    /**
     * Resolves, opens and places a model. The files are closed again once the tensors are in the
     * model's memory.
     *
     * @param ref the model
     * @return the placed model; the caller closes it
     */
    public LoadedModel load(ModelRef ref) {
        DeviceCheck.require(device);
        ResolvedModel resolved = resolve(ref);
        long openStart = System.nanoTime();
        listener.stageStarted(LoadStage.OPEN, -1);
        try (SafetensorsModel opened = open(resolved)) {
            long fileBytes = opened.files().stream().mapToLong(SafetensorsFile::fileSize).sum();
            StageTiming open =
                    new StageTiming(LoadStage.OPEN, System.nanoTime() - openStart, fileBytes);
            listener.stageFinished(open);
            return place(opened, resolved, List.of(resolvedTiming(resolved), open));
        }
    }

    private static StageTiming resolvedTiming(ResolvedModel resolved) {
        return new StageTiming(LoadStage.RESOLVE, resolved.nanos(), resolved.downloadedBytes());
    }

    /**
     * The resolve stage alone: finds the model's files, downloading from the hub what the cache
     * lacks (nothing when offline).
     *
     * @param ref the model
     * @return where its files are
     * @throws dev.safeload.cache.HubException when the hub or the cache cannot give the revision
     *     (for example {@code OfflineMiss} for a repo the cache lacks, offline)
     * @throws LoaderException {@link LoaderError#NotFound} for a local path that does not exist
     */
    public ResolvedModel resolve(ModelRef ref) {
        listener.stageStarted(LoadStage.RESOLVE, -1);
        ResolvedModel resolved = ModelResolver.resolve(ref, hub, snapshot);
        listener.stageFinished(resolvedTiming(resolved));
        return resolved;
    }

    /**
     * The open stage alone: opens every file of the model and validates every header.
     *
     * @param resolved a resolved model
     * @return the opened model; the caller closes it
     * @throws LoaderException {@link LoaderError#UnsupportedLocation} for a location no installed
     *     store reads
     */
    public SafetensorsModel open(ResolvedModel resolved) {
        return ModelOpener.open(resolved, readOptions);
    }

    /**
     * The place stage alone: copies every tensor of an opened model once into memory on this
     * loader's device, owned by the returned model. The caller still owns {@code model} and may
     * close it as soon as this returns.
     *
     * @param model an opened model
     * @param source where it came from, for the report ({@link ResolvedModel#ofPath} for a model
     *     opened by hand)
     * @return the placed model; the caller closes it
     */
    public LoadedModel place(SafetensorsModel model, ResolvedModel source) {
        DeviceCheck.require(device);
        return place(model, source, List.of());
    }

    private LoadedModel place(
            SafetensorsModel model, ResolvedModel source, List<StageTiming> before) {
        long bytes = model.tensors().stream().mapToLong(TensorInfo::byteLength).sum();
        listener.stageStarted(LoadStage.PLACE, bytes);
        long start = System.nanoTime();
        Placement placement =
                device.isCuda()
                        ? CudaPlacement.place(model, device, uploader, listener)
                        : HostPlacement.place(model, hostThreads, listener);
        try {
            StageTiming place =
                    new StageTiming(
                            LoadStage.PLACE, System.nanoTime() - start, placement.bytesCopied());
            listener.stageFinished(place);
            List<StageTiming> stages = new ArrayList<>(before);
            stages.add(place);
            Set<String> placed = new HashSet<>();
            placement.tensors().forEach(t -> placed.add(t.name()));
            LoadReport report =
                    new LoadReport(
                            source,
                            device,
                            placement.tensors().size(),
                            bytes,
                            placement.bytesCopied(),
                            stages);
            return new LoadedModel(placement, SourceLayout.of(model, placed), report);
        } catch (RuntimeException | Error e) {
            new Cleanup(e).close(placement).rethrow();
            throw e;
        }
    }

    /**
     * Reads an adapter named as a user types it: a PEFT folder, a kohya or diffusers {@code
     * .safetensors} file, or a repo id (resolved through the hub cache as models are, at {@code
     * main}).
     *
     * @param adapter the path or repo id
     * @return the adapter, in memory
     */
    public LoraAdapter readAdapter(String adapter) {
        return readAdapter(ModelRef.parse(adapter, "main"));
    }

    /**
     * Reads an adapter from a path or a hub repo.
     *
     * @param ref the adapter
     * @return the adapter, in memory
     */
    public LoraAdapter readAdapter(ModelRef ref) {
        ResolvedModel resolved =
                ModelResolver.resolve(
                        ref, hub, snapshot.withInclude(DEFAULT_INCLUDE.toArray(String[]::new)));
        Path path =
                resolved.localPath()
                        .orElseThrow(
                                () ->
                                        new LoaderException(
                                                LoaderError.UnsupportedLocation,
                                                "adapters are read from local paths or the hub,"
                                                        + " not from "
                                                        + resolved.location()));
        return LoraAdapter.read(path);
    }

    /** Options of a {@link ModelLoader}. */
    public static final class Builder {
        private Supplier<HubSettings> hub = HubSettings::fromEnvironment;
        private SnapshotOptions snapshot =
                SnapshotOptions.defaults().withInclude(DEFAULT_INCLUDE.toArray(String[]::new));
        private Device device = Device.cpu();
        private ReadOptions readOptions = ReadOptions.DEFAULT;
        private ModelUploader uploader = ModelUploader.builder().build();
        private int hostThreads = Math.min(4, Runtime.getRuntime().availableProcessors());
        private LoadListener listener = LoadListener.NONE;

        private Builder() {}

        /**
         * The device to place models on (default: the CPU).
         *
         * @param device the device
         * @return this builder
         */
        public Builder device(Device device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        /**
         * The hub cache, endpoints, token and offline mode (default: {@link
         * HubSettings#fromEnvironment()}, read when a repo is first resolved).
         *
         * @param settings the settings
         * @return this builder
         */
        public Builder hub(HubSettings settings) {
            Objects.requireNonNull(settings, "settings");
            this.hub = () -> settings;
            return this;
        }

        /**
         * What a snapshot download of a model fetches and how (default: {@link #DEFAULT_INCLUDE}, 8
         * workers, no listener); its listener hears of the downloads.
         *
         * @param options the snapshot options
         * @return this builder
         */
        public Builder snapshot(SnapshotOptions options) {
            this.snapshot = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * How files are read (default: memory-mapped, reference limits).
         *
         * @param options the read options
         * @return this builder
         */
        public Builder readOptions(ReadOptions options) {
            this.readOptions = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * How models reach a CUDA device: reader threads, bounce buffers, streams, and optionally a
         * tensor selection, tensor-parallel slices and dtype conversions (default: {@code
         * ModelUploader.builder().build()}, every tensor as stored).
         *
         * @param uploader the upload pipeline
         * @return this builder
         */
        public Builder uploader(ModelUploader uploader) {
            this.uploader = Objects.requireNonNull(uploader, "uploader");
            return this;
        }

        /**
         * Threads that copy tensors into host memory on the CPU (default: up to 4).
         *
         * @param threads at least 1
         * @return this builder
         */
        public Builder hostThreads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("host threads must be at least 1: " + threads);
            }
            this.hostThreads = threads;
            return this;
        }

        /**
         * Hears of each stage's start, progress and end (default: nothing).
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(LoadListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * The loader.
         *
         * @return an immutable loader with these options
         */
        public ModelLoader build() {
            return new ModelLoader(this);
        }
    }
}
