package dev.safeload.cuda;

import dev.safeload.cuda.internal.upload.CudaCopyEngine;
import dev.safeload.cuda.internal.upload.SourceTensor;
import dev.safeload.cuda.internal.upload.UploadPipeline;
import dev.safeload.cuda.internal.upload.UploadPlan;
import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsError;
import dev.safeload.safetensors.SafetensorsException;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.TensorInfo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.Predicate;

/**
 * Uploads the tensors of a safetensors file or sharded model into one device arena.
 *
 * <p>Several reader threads copy the mapped (or pread) file into pinned bounce buffers, and
 * asynchronous host-to-device copies on several streams move each buffer while the readers fill the
 * next ones; events tell when a buffer may be refilled. Options select tensors, take a
 * tensor-parallel slice of each (only the slice's bytes are read and cross the bus), and convert
 * dtypes on the device (BF16/F32 to F16, F16/F32 to BF16, rounding as PyTorch's {@code .to()}).
 *
 * {@snippet :
 * ModelUploader uploader = ModelUploader.builder()
 *         .select(name -> name.startsWith("model.layers."))
 *         .slice(t -> t.name().endsWith("q_proj.weight")
 *                 ? Optional.of(TensorSlice.shard(t.shape(), 0, rank, worldSize)) : Optional.empty())
 *         .convert(t -> t.dtype() == DType.BF16 ? Optional.of(DType.F16) : Optional.empty())
 *         .build();
 * try (SafetensorsModel model = SafetensorsModel.open(folder);
 *      DeviceModel weights = uploader.upload(context, model)) {
 *     DeviceBuffer q = weights.tensor("model.layers.0.self_attn.q_proj.weight").buffer();
 * }
 * }
 *
 * <p>On failure (out of device memory, a read error) everything the upload allocated is freed
 * before the exception leaves.
 */
public final class ModelUploader {
    private final int readerThreads;
    private final int bounceBuffers;
    private final long bounceBufferBytes;
    private final int streams;
    private final Predicate<String> selection;
    private final Set<String> required;
    private final Function<TensorInfo, Optional<TensorSlice>> slicing;
    private final Function<TensorInfo, Optional<DType>> conversion;

    private ModelUploader(Builder b) {
        this.readerThreads = b.readerThreads;
        this.bounceBuffers = b.bounceBuffers;
        this.bounceBufferBytes = b.bounceBufferBytes;
        this.streams = b.streams;
        this.selection = b.selection;
        this.required = b.required;
        this.slicing = b.slicing;
        this.conversion = b.conversion;
    }

    /**
     * A builder with the defaults: 4 readers, 6 bounce buffers of 16 MiB, 2 streams, every tensor
     * as stored.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Uploads the selected tensors of one file. */
    public DeviceModel upload(CudaContext context, SafetensorsFile file) {
        return upload(context, plan(file.tensors(), t -> file), bytes -> {});
    }

    /** Uploads the selected tensors of a (possibly sharded) model. */
    public DeviceModel upload(CudaContext context, SafetensorsModel model) {
        return upload(context, model, bytes -> {});
    }

    /**
     * As {@link #upload(CudaContext, SafetensorsModel)}; {@code landed} is told the bytes of each
     * chunk once they are on the device, for a progress bar (from a pipeline thread: it must return
     * quickly).
     */
    public DeviceModel upload(CudaContext context, SafetensorsModel model, LongConsumer landed) {
        return upload(context, plan(model.tensors(), t -> model.fileOf(t.name())), landed);
    }

    /**
     * The plan for these tensors; package-visible so tests without a GPU can run it on the host
     * engine.
     */
    UploadPlan plan(List<TensorInfo> infos, Function<TensorInfo, SafetensorsFile> fileOf) {
        List<String> missing =
                required.stream()
                        .filter(name -> infos.stream().noneMatch(t -> t.name().equals(name)))
                        .sorted()
                        .toList();
        if (!missing.isEmpty()) {
            throw new SafetensorsException(
                    SafetensorsError.TensorNotFound,
                    "cannot upload tensors the model does not "
                            + "have: "
                            + String.join(", ", missing));
        }
        List<UploadPlan.Request> requests = new ArrayList<>();
        for (TensorInfo info : infos) {
            if (!selection.test(info.name())) {
                continue;
            }
            SafetensorsFile file = fileOf.apply(info);
            SourceTensor source =
                    new SourceTensor(
                            info.name(),
                            info.dtype(),
                            info.shape(),
                            info.byteLength(),
                            (offset, dst) -> file.readBytes(info, offset, dst));
            Optional<TensorSlice> slice =
                    Objects.requireNonNull(slicing.apply(info), "slice function returned null");
            Optional<DType> dtype =
                    Objects.requireNonNull(
                            conversion.apply(info), "convert function returned null");
            requests.add(new UploadPlan.Request(source, slice, dtype));
        }
        return UploadPlan.of(requests, bounceBufferBytes);
    }

    private DeviceModel upload(CudaContext context, UploadPlan plan, LongConsumer landed) {
        DeviceBuffer arena = context.allocate(plan.arenaBytes());
        try {
            boolean converts = plan.chunks().stream().anyMatch(c -> c.conversion().isPresent());
            UploadPipeline.Stats stats;
            try (CudaCopyEngine engine =
                    new CudaCopyEngine(context, arena, streams, converts ? plan.chunkBytes() : 0)) {
                stats =
                        new UploadPipeline(plan, engine, readerThreads, bounceBuffers, landed)
                                .run();
            }
            List<DeviceTensor> tensors = new ArrayList<>();
            for (UploadPlan.PlannedTensor t : plan.tensors()) {
                // A zero-byte tensor still gets a (zero-length) view at its aligned offset.
                tensors.add(
                        new DeviceTensor(
                                t.source().name(),
                                t.outputDtype(),
                                t.outputShape(),
                                arena.view(t.arenaOffset(), t.outputBytes()),
                                t.arenaOffset()));
            }
            return new DeviceModel(
                    arena,
                    tensors,
                    new UploadReport(
                            tensors.size(),
                            stats.bytesRead(),
                            stats.bytesTransferred(),
                            plan.arenaBytes(),
                            stats.nanos()));
        } catch (RuntimeException | Error e) {
            try {
                arena.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Options of a {@link ModelUploader}. */
    public static final class Builder {
        private int readerThreads = 4;
        private int bounceBuffers = 6;
        private long bounceBufferBytes = 16L << 20;
        private int streams = 2;
        private Predicate<String> selection = name -> true;
        private Set<String> required = Set.of();
        private Function<TensorInfo, Optional<TensorSlice>> slicing = t -> Optional.empty();
        private Function<TensorInfo, Optional<DType>> conversion = t -> Optional.empty();

        private Builder() {}

        /**
         * Threads that read the file into bounce buffers (default 4; more helps cold reads from
         * fast NVMe).
         */
        public Builder readerThreads(int n) {
            this.readerThreads = positive(n, "reader threads");
            return this;
        }

        /**
         * Pinned bounce buffers (default 6): more than the reader count lets reads overlap copies.
         */
        public Builder bounceBuffers(int n) {
            this.bounceBuffers = positive(n, "bounce buffers");
            return this;
        }

        /**
         * Bytes per bounce buffer (default 16 MiB; a multiple of 256), also the device scratch per
         * stream for conversions.
         */
        public Builder bounceBufferBytes(long bytes) {
            if (bytes < 256 || bytes % 256 != 0) {
                throw new IllegalArgumentException(
                        "bounce buffer size must be a positive multiple of 256, not " + bytes);
            }
            this.bounceBufferBytes = bytes;
            return this;
        }

        /** CUDA streams the copies are spread over (default 2). */
        public Builder streams(int n) {
            this.streams = positive(n, "streams");
            return this;
        }

        /** Uploads only the tensors whose name passes {@code filter}. */
        public Builder select(Predicate<String> filter) {
            this.selection = Objects.requireNonNull(filter, "filter");
            this.required = Set.of();
            return this;
        }

        /**
         * Uploads only the tensors named in {@code names}; naming one the model lacks is an error.
         */
        public Builder select(Collection<String> names) {
            Set<String> copy = Set.copyOf(names);
            this.selection = copy::contains;
            this.required = copy;
            return this;
        }

        /** Per tensor, the slice to upload instead of the whole tensor (empty for the whole). */
        public Builder slice(Function<TensorInfo, Optional<TensorSlice>> slices) {
            this.slicing = Objects.requireNonNull(slices, "slices");
            return this;
        }

        /** Per tensor, the dtype wanted on the device (empty to keep it). */
        public Builder convert(Function<TensorInfo, Optional<DType>> dtypes) {
            this.conversion = Objects.requireNonNull(dtypes, "dtypes");
            return this;
        }

        /** Converts every tensor of dtype {@code from} to {@code to}. */
        public Builder convert(DType from, DType to) {
            return convert(t -> t.dtype() == from ? Optional.of(to) : Optional.empty());
        }

        public ModelUploader build() {
            return new ModelUploader(this);
        }

        private static int positive(int n, String what) {
            if (n < 1) {
                throw new IllegalArgumentException(what + " must be at least 1, not " + n);
            }
            return n;
        }
    }
}
