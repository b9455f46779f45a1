package dev.safeload.lora;

import dev.safeload.cuda.Cublas;
import dev.safeload.cuda.CublasComputeType;
import dev.safeload.cuda.CublasHandle;
import dev.safeload.cuda.CublasOperation;
import dev.safeload.cuda.Cuda;
import dev.safeload.cuda.CudaContext;
import dev.safeload.cuda.CudaDataType;
import dev.safeload.cuda.CudaStream;
import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.cuda.DeviceMatrix;
import dev.safeload.cuda.internal.Cleanup;
import dev.safeload.lora.internal.CpuKernels;
import dev.safeload.lora.internal.CudaAdapterPool;
import dev.safeload.lora.internal.Numerics;
import dev.safeload.lora.internal.StagingArena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Merges on the GPU, in place on device weights, through cuBLAS.
 *
 * <p>A plain target (no DoRA) is one {@code cublasGemmEx} with beta = 1 (docs/lora.md §4.2-4.3):
 * the weight is row-major {@code rows × cols}, i.e. column-major {@code cols × rows}, so {@code W
 * += left·right} is {@code Wᶜ(cols×rows) += rightᶜ(cols×k) · leftᶜ(k×rows)} with both operands
 * {@code OP_N}. Operands are the weight's dtype (fp16/bf16 factors, fp32 for F32 weights), compute
 * is {@code CUBLAS_COMPUTE_32F}: the epilogue forms {@code left·right + W} in fp32 and rounds once.
 * The factors (already scaled, several adapters concatenated along k) reach the device through
 * pinned staging memory with asynchronous copies, so a whole model's merge is queued on one stream
 * without a host sync; {@link #synchronize()} or {@link #read} wait.
 *
 * <p>Differences from the CPU backend: the factors are rounded to the weight's dtype before the
 * GEMM (the CPU keeps them fp32), and cuBLAS sums in its own order; both stay far inside the test
 * tolerances. DoRA targets need per-output norms of the merged weight: they are merged on the host
 * (download, CPU kernel, upload), which synchronizes the stream.
 *
 * <p>One thread uses a backend at a time, like the cuBLAS handle it owns.
 */
public final class CudaLoraBackend implements LoraBackend {
    private final CudaContext context;
    private final boolean ownsContext;
    private final CudaStream stream;
    private final CublasHandle blas;
    private final boolean groupedGemm;
    private final StagingArena staging;
    private ExecutorService hostThreads;

    /** Device copies of prepared steps' factors: {left, right} in the target's dtype. */
    private final java.util.IdentityHashMap<MergeTarget.Step, DeviceBuffer[]> resident =
            new java.util.IdentityHashMap<>();

    /**
     * Pools made here: their modules must be freed while the stream still exists, so {@link
     * #close()} closes them first.
     */
    private final List<CudaAdapterPool> pools = new ArrayList<>();

    private boolean closed;

    private CudaLoraBackend(
            CudaContext context, boolean ownsContext, long stagingChunkBytes, int stagingChunks) {
        this.context = context;
        this.ownsContext = ownsContext;
        CudaStream s = null;
        CublasHandle h = null;
        try {
            Cublas cublas = Cublas.load();
            s = context.createStream();
            h = cublas.createHandle(s);
            this.groupedGemm = cublas.hasGroupedGemm();
            this.staging =
                    new StagingArena(
                            context, s, stagingChunkBytes, stagingChunks); // allocates on first use
        } catch (RuntimeException e) {
            new Cleanup(e).close(h, s, ownsContext ? context : null).rethrow();
            throw e;
        }
        this.stream = s;
        this.blas = h;
    }

    private CudaLoraBackend(CudaContext context, boolean ownsContext) {
        this(context, ownsContext, StagingArena.CHUNK_BYTES, StagingArena.RING_CHUNKS);
    }

    /** A backend on device {@code ordinal}, owning its context, stream and cuBLAS handle. */
    public static CudaLoraBackend open(int ordinal) {
        if (!available()) {
            throw LoraException.of(
                    LoraError.BackendUnavailable,
                    "the CUDA LoRA backend cannot run here: %s",
                    unavailableReason());
        }
        return new CudaLoraBackend(CudaContext.open(ordinal), true);
    }

    /**
     * A backend in the caller's context (which it leaves open on close), with its own stream and
     * handle.
     */
    public static CudaLoraBackend in(CudaContext context) {
        return new CudaLoraBackend(Objects.requireNonNull(context, "context"), false);
    }

    /**
     * As {@link #in(CudaContext)} with a staging ring of {@code chunks} chunks of {@code
     * chunkBytes} (tests use small ones).
     */
    static CudaLoraBackend in(CudaContext context, long stagingChunkBytes, int stagingChunks) {
        return new CudaLoraBackend(
                Objects.requireNonNull(context, "context"),
                false,
                stagingChunkBytes,
                stagingChunks);
    }

    /** Whether a CUDA device and cuBLAS are usable. Never throws. */
    public static boolean available() {
        try {
            return Cuda.isAvailable() && Cublas.isAvailable();
        } catch (LinkageError e) {
            return false;
        }
    }

    /** Why {@link #available()} is false. */
    public static String unavailableReason() {
        try {
            return Cuda.unavailableReason().or(Cublas::unavailableReason).orElse("available");
        } catch (LinkageError e) {
            return e.toString();
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** The stream every operation is queued on; the caller's own kernels can wait on it. */
    public CudaStream stream() {
        return stream;
    }

    public CudaContext context() {
        return context;
    }

    /**
     * Wraps device weights the caller owns (for example uploaded by the safetensors pipeline) for
     * in-place merges.
     */
    public WeightBuffer wrap(WeightSpec spec, DeviceBuffer buffer) {
        long need =
                spec.elementCount()
                        * Precision.of(spec.dtype(), "tensor " + spec.name()).byteSize();
        if (buffer.byteSize() != need) {
            throw LoraException.of(
                    LoraError.ShapeMismatch,
                    "%s %s needs %d bytes, device buffer has %d",
                    spec.name(),
                    spec.shapeText(),
                    need,
                    buffer.byteSize());
        }
        return new DeviceWeight(spec, buffer, false);
    }

    /** The device buffer behind a weight of this backend. */
    public static DeviceBuffer buffer(WeightBuffer weight) {
        return device(weight).buffer();
    }

    @Override
    public WeightBuffer load(WeightSpec spec, MemorySegment bytes) {
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
        DeviceBuffer buffer = context.allocate(need);
        try {
            buffer.copyFromHost(
                    bytes, 0); // synchronous: the caller's segment need not outlive the call
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        return new DeviceWeight(spec, buffer, true);
    }

    @Override
    public void merge(WeightBuffer weight, MergeTarget target) {
        DeviceWeight w = checked(weight, target);
        if (target.isSingleGemm()) {
            gemm(w, target, target.steps().getFirst(), 1.0);
        } else {
            mergeOnHost(w, target);
        }
    }

    @Override
    public void unmerge(WeightBuffer weight, MergeTarget target) {
        DeviceWeight w = checked(weight, target);
        if (target.hasDora()) {
            throw LoraException.of(
                    LoraError.Unsupported,
                    "%s: DoRA cannot be unmerged by subtraction (the weight norms are not kept);"
                            + " keep the original instead",
                    target.weight().name());
        }
        List<MergeTarget.Step> steps = target.steps();
        for (int i = steps.size() - 1; i >= 0; i--) {
            gemm(w, target, steps.get(i), -1.0);
        }
    }

    /** {@code W += sign · left·right}: one cublasGemmEx, beta = 1, fp32 compute, queued. */
    private void gemm(DeviceWeight w, MergeTarget t, MergeTarget.Step step, double sign) {
        Precision p = t.precision();
        CudaDataType type = cudaType(p);
        int k = step.k();
        DeviceBuffer[] prepared = resident.get(step);
        try {
            DeviceBuffer left = prepared != null ? prepared[0] : stage(step.left(), p);
            DeviceBuffer right = prepared != null ? prepared[1] : stage(step.right(), p);
            // Row-major W (rows×cols) is column-major (cols×rows), ld = cols; likewise right
            // (k×cols) is
            // column-major cols×k (ld = cols) and left (rows×k) is column-major k×rows (ld = k).
            blas.gemmEx(
                    CublasOperation.N,
                    CublasOperation.N,
                    t.cols(),
                    t.rows(),
                    k,
                    sign,
                    new DeviceMatrix(right, type, t.cols()),
                    new DeviceMatrix(left, type, k),
                    1.0,
                    new DeviceMatrix(w.buffer(), type, t.cols()),
                    CublasComputeType.COMPUTE_32F);
        } finally {
            staging.recordUses(); // the GEMM (or nothing, if it failed) is the last reader of the
            // staged factors
        }
    }

    @Override
    public void prepare(MergePlan plan) {
        for (MergeTarget t : plan.targets().values()) {
            if (!t.isSingleGemm() || resident.containsKey(t.steps().getFirst())) {
                continue;
            }
            MergeTarget.Step step = t.steps().getFirst();
            resident.put(step, residentFactors(step, t.precision()));
        }
    }

    /**
     * Device copies of one step's factors, queued; on any failure neither stays allocated, so no
     * step is ever resident with factors that were not copied in.
     */
    private DeviceBuffer[] residentFactors(MergeTarget.Step step, Precision p) {
        DeviceBuffer left = null;
        DeviceBuffer right = null;
        try {
            left = context.allocate((long) step.left().length * p.byteSize());
            right = context.allocate((long) step.right().length * p.byteSize());
            left.copyFromDeviceAsync(stage(step.left(), p), 0, stream);
            right.copyFromDeviceAsync(stage(step.right(), p), 0, stream);
            return new DeviceBuffer[] {left, right};
        } catch (RuntimeException e) {
            // A copy into left may be queued: let it finish before the memory is freed, even if
            // waiting fails.
            new Cleanup(e).run(stream::synchronize).close(left, right).rethrow();
            throw e;
        } finally {
            staging.recordUses();
        }
    }

    @Override
    public void release(MergePlan plan) {
        synchronize();
        Cleanup cleanup = new Cleanup();
        for (MergeTarget t : plan.targets().values()) {
            DeviceBuffer[] buffers = resident.remove(t.steps().getFirst());
            if (buffers != null) {
                cleanup.close(buffers);
            }
        }
        cleanup.rethrow();
    }

    /**
     * Rounds fp32 values to {@code p} into pinned memory and queues their upload; the caller queues
     * the readers and then calls {@link StagingArena#recordUses()}.
     */
    DeviceBuffer stage(float[] values, Precision p) {
        StagingArena.Piece piece = staging.allocate((long) values.length * p.byteSize());
        Numerics.store(values, 0, piece.host(), p, 0, values.length);
        return piece.upload();
    }

    /** Staging for the adapter pool's pointer arrays (internal use). */
    public StagingArena stagingArena() {
        return staging;
    }

    private void mergeOnHost(DeviceWeight w, MergeTarget target) {
        synchronize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(w.byteSize(), 8);
            w.buffer().copyToHost(0, host);
            if (hostThreads == null) {
                hostThreads =
                        Executors.newFixedThreadPool(
                                Runtime.getRuntime().availableProcessors(),
                                r -> {
                                    Thread th = new Thread(r, "safeload-lora-cuda-host");
                                    th.setDaemon(true);
                                    return th;
                                });
            }
            CpuKernels.merge(
                    host, target, 1f, hostThreads, Runtime.getRuntime().availableProcessors());
            w.buffer().copyFromHost(host, 0);
        }
    }

    @Override
    public WeightBuffer copy(WeightBuffer weight) {
        DeviceWeight w = device(weight);
        DeviceBuffer copy = context.allocate(w.buffer().byteSize());
        try {
            copy.copyFromDeviceAsync(w.buffer(), 0, stream);
        } catch (RuntimeException e) {
            new Cleanup(e).close(copy).rethrow();
            throw e;
        }
        return new DeviceWeight(w.spec(), copy, true);
    }

    @Override
    public void copyInto(WeightBuffer source, WeightBuffer destination) {
        DeviceWeight from = device(source);
        DeviceWeight to = device(destination);
        if (!from.spec().equals(to.spec())) {
            throw new IllegalArgumentException("cannot copy " + from.spec() + " over " + to.spec());
        }
        to.buffer().copyFromDeviceAsync(from.buffer(), 0, stream);
    }

    @Override
    public void read(WeightBuffer weight, MemorySegment destination) {
        synchronize();
        device(weight).buffer().copyToHost(0, destination.asSlice(0, weight.byteSize()));
    }

    @Override
    public void synchronize() {
        stream.synchronize();
        staging.trim();
    }

    @Override
    public AdapterPool newAdapterPool(
            Collection<WeightSpec> base, Precision precision, long capacityBytes) {
        if (precision == Precision.F32) {
            throw LoraException.of(
                    LoraError.WrongDtype,
                    "the CUDA adapter pool serves F16 or BF16 activations, not F32");
        }
        pools.removeIf(CudaAdapterPool::isClosed);
        CudaAdapterPool pool =
                new CudaAdapterPool(
                        base, capacityBytes, this, blas, cudaType(precision), groupedGemm);
        pools.add(pool);
        return pool;
    }

    /**
     * Closes the adapter pools made here (their modules are freed after the queued work that reads
     * them), then everything this backend owns. Each step runs even when an earlier one fails; the
     * first failure is thrown with the later ones suppressed in it.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Cleanup cleanup = new Cleanup();
        pools.forEach(cleanup::close);
        pools.clear();
        cleanup.run(stream::synchronize);
        resident.values().forEach(cleanup::close);
        resident.clear();
        cleanup.close(staging, blas, stream);
        if (hostThreads != null) {
            cleanup.run(hostThreads::shutdownNow);
        }
        if (ownsContext) {
            cleanup.close(context);
        }
        cleanup.rethrow();
    }

    /** The cuBLAS element type of a precision. */
    public static CudaDataType cudaType(Precision p) {
        return switch (p) {
            case F16 -> CudaDataType.R_16F;
            case BF16 -> CudaDataType.R_16BF;
            case F32 -> CudaDataType.R_32F;
        };
    }

    private static DeviceWeight checked(WeightBuffer weight, MergeTarget target) {
        DeviceWeight w = device(weight);
        if (!target.weight().equals(w.spec())) {
            throw new IllegalArgumentException(
                    "target " + target.weight() + " does not belong to buffer " + w.spec());
        }
        return w;
    }

    private static DeviceWeight device(WeightBuffer weight) {
        if (weight instanceof DeviceWeight d) {
            return d;
        }
        throw new IllegalArgumentException(
                "the CUDA backend needs its own buffers, got " + weight.getClass().getName());
    }

    /** A tensor in device memory; frees it on close when the backend allocated it. */
    record DeviceWeight(WeightSpec spec, DeviceBuffer buffer, boolean owned)
            implements WeightBuffer {
        @Override
        public void close() {
            if (owned) {
                buffer.close();
            }
        }
    }

    /** ServiceLoader entry: {@code cuda}, available when a device and cuBLAS are. */
    public static final class Provider implements LoraBackendProvider {
        @Override
        public String name() {
            return "cuda";
        }

        @Override
        public boolean available() {
            return CudaLoraBackend.available();
        }

        @Override
        public LoraBackend open() {
            return CudaLoraBackend.open(0);
        }
    }
}
