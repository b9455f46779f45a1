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
import dev.safeload.lora.internal.CpuKernels;
import dev.safeload.lora.internal.CudaAdapterPool;
import dev.safeload.lora.internal.Numerics;
import dev.safeload.lora.internal.StagingArena;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Merges on the GPU, in place on device weights, through cuBLAS.
 *
 * <p>A plain target (no DoRA) is one {@code cublasGemmEx} with beta = 1 (lora.md 4.2-4.3): the
 * weight is row-major {@code rows × cols}, i.e. column-major {@code cols × rows}, so
 * {@code W += left·right} is {@code Wᶜ(cols×rows) += rightᶜ(cols×k) · leftᶜ(k×rows)} with both
 * operands {@code OP_N}. Operands are the weight's dtype (fp16/bf16 factors, fp32 for F32
 * weights), compute is {@code CUBLAS_COMPUTE_32F}: the epilogue forms {@code left·right + W} in fp32
 * and rounds once. The factors (already scaled, several adapters concatenated along k) reach the
 * device through pinned staging memory with asynchronous copies, so a whole model's merge is
 * queued on one stream without a host sync; {@link #synchronize()} or {@link #read} wait.
 *
 * <p>Differences from the CPU backend: the factors are rounded to the weight's dtype before the GEMM
 * (the CPU keeps them fp32), and cuBLAS sums in its own order; both stay far inside the test
 * tolerances. DoRA targets need per-output norms of the merged weight: they are merged on the host
 * (download, CPU kernel, upload), which synchronizes the stream.
 *
 * <p>One thread uses a backend at a time, like the cuBLAS handle it owns.
 */
public final class CudaLoraBackend implements LoraBackend {
    private static final long STAGING_SYNC_BYTES = 512L << 20;
    private final CudaContext context;
    private final boolean ownsContext;
    private final CudaStream stream;
    private final CublasHandle blas;
    private final boolean groupedGemm;
    private final StagingArena staging;
    private ExecutorService hostThreads;
    /** Device copies of prepared steps' factors: {left, right} in the target's dtype. */
    private final java.util.IdentityHashMap<MergeTarget.Step, DeviceBuffer[]> resident = new java.util.IdentityHashMap<>();
    private boolean closed;

    private CudaLoraBackend(CudaContext context, boolean ownsContext) {
        this.context = context;
        this.ownsContext = ownsContext;
        CudaStream s = null;
        CublasHandle h = null;
        try {
            Cublas cublas = Cublas.load();
            s = context.createStream();
            h = cublas.createHandle(s);
            this.groupedGemm = cublas.hasGroupedGemm();
        } catch (RuntimeException e) {
            if (h != null) {
                h.close();
            }
            if (s != null) {
                s.close();
            }
            if (ownsContext) {
                context.close();
            }
            throw e;
        }
        this.stream = s;
        this.blas = h;
        this.staging = new StagingArena(context, stream);
    }

    /** A backend on device {@code ordinal}, owning its context, stream and cuBLAS handle. */
    public static CudaLoraBackend open(int ordinal) {
        if (!available()) {
            throw LoraException.of(LoraError.BackendUnavailable, "the CUDA LoRA backend cannot run here: %s",
                    unavailableReason());
        }
        return new CudaLoraBackend(CudaContext.open(ordinal), true);
    }

    /** A backend in the caller's context (which it leaves open on close), with its own stream and handle. */
    public static CudaLoraBackend in(CudaContext context) {
        return new CudaLoraBackend(Objects.requireNonNull(context, "context"), false);
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

    /** Wraps device weights the caller owns (for example uploaded by the safetensors pipeline) for in-place merges. */
    public WeightBuffer wrap(WeightSpec spec, DeviceBuffer buffer) {
        long need = spec.elementCount() * Precision.of(spec.dtype(), "tensor " + spec.name()).byteSize();
        if (buffer.byteSize() != need) {
            throw LoraException.of(LoraError.ShapeMismatch, "%s %s needs %d bytes, device buffer has %d", spec.name(),
                    spec.shapeText(), need, buffer.byteSize());
        }
        return new DeviceWeight(spec, buffer, false);
    }

    /** The device buffer behind a weight of this backend. */
    public static DeviceBuffer buffer(WeightBuffer weight) {
        return device(weight).buffer();
    }

    @Override
    public WeightBuffer load(WeightSpec spec, MemorySegment bytes) {
        long need = spec.elementCount() * Precision.of(spec.dtype(), "tensor " + spec.name()).byteSize();
        if (bytes.byteSize() != need) {
            throw LoraException.of(LoraError.ShapeMismatch, "%s %s needs %d bytes, got %d", spec.name(), spec.shapeText(),
                    need, bytes.byteSize());
        }
        DeviceBuffer buffer = context.allocate(need);
        try {
            buffer.copyFromHost(bytes, 0); // synchronous: the caller's segment need not outlive the call
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
            throw LoraException.of(LoraError.Unsupported,
                    "%s: DoRA cannot be unmerged by subtraction (the weight norms are not kept); keep the original instead",
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
        DeviceBuffer left = prepared != null ? prepared[0] : stage(step.left(), p);
        DeviceBuffer right = prepared != null ? prepared[1] : stage(step.right(), p);
        // Row-major W (rows×cols) is column-major (cols×rows), ld = cols; likewise right (k×cols) is
        // column-major cols×k (ld = cols) and left (rows×k) is column-major k×rows (ld = k).
        blas.gemmEx(CublasOperation.N, CublasOperation.N, t.cols(), t.rows(), k, sign,
                new DeviceMatrix(right, type, t.cols()), new DeviceMatrix(left, type, k), 1.0,
                new DeviceMatrix(w.buffer(), type, t.cols()), CublasComputeType.COMPUTE_32F);
    }

    @Override
    public void prepare(MergePlan plan) {
        for (MergeTarget t : plan.targets().values()) {
            if (!t.isSingleGemm() || resident.containsKey(t.steps().getFirst())) {
                continue;
            }
            MergeTarget.Step step = t.steps().getFirst();
            DeviceBuffer left = context.allocate((long) step.left().length * t.precision().byteSize());
            DeviceBuffer right = context.allocate((long) step.right().length * t.precision().byteSize());
            resident.put(step, new DeviceBuffer[] {left, right});
            left.copyFromDeviceAsync(stage(step.left(), t.precision()), 0, stream);
            right.copyFromDeviceAsync(stage(step.right(), t.precision()), 0, stream);
        }
    }

    @Override
    public void release(MergePlan plan) {
        synchronize();
        for (MergeTarget t : plan.targets().values()) {
            DeviceBuffer[] buffers = resident.remove(t.steps().getFirst());
            if (buffers != null) {
                buffers[0].close();
                buffers[1].close();
            }
        }
    }

    /** Rounds fp32 values to {@code p} into pinned memory and queues their upload. */
    DeviceBuffer stage(float[] values, Precision p) {
        if (staging.used() > STAGING_SYNC_BYTES) {
            synchronize(); // bound pinned + device staging for very long queues; one sync per ~1000 modules
        }
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
                hostThreads = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(), r -> {
                    Thread th = new Thread(r, "safeload-lora-cuda-host");
                    th.setDaemon(true);
                    return th;
                });
            }
            CpuKernels.merge(host, target, 1f, hostThreads, Runtime.getRuntime().availableProcessors());
            w.buffer().copyFromHost(host, 0);
        }
    }

    @Override
    public WeightBuffer copy(WeightBuffer weight) {
        DeviceWeight w = device(weight);
        DeviceBuffer copy = context.allocate(w.buffer().byteSize());
        copy.copyFromDeviceAsync(w.buffer(), 0, stream);
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
        staging.reset();
    }

    @Override
    public AdapterPool newAdapterPool(Collection<WeightSpec> base, Precision precision, long capacityBytes) {
        if (precision == Precision.F32) {
            throw LoraException.of(LoraError.WrongDtype, "the CUDA adapter pool serves F16 or BF16 activations, not F32");
        }
        return new CudaAdapterPool(base, capacityBytes, this, blas, cudaType(precision), groupedGemm);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stream.synchronize();
        } finally {
            resident.values().forEach(b -> {
                b[0].close();
                b[1].close();
            });
            resident.clear();
            staging.close();
            blas.close();
            stream.close();
            if (hostThreads != null) {
                hostThreads.shutdownNow();
            }
            if (ownsContext) {
                context.close();
            }
        }
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
            throw new IllegalArgumentException("target " + target.weight() + " does not belong to buffer " + w.spec());
        }
        return w;
    }

    private static DeviceWeight device(WeightBuffer weight) {
        if (weight instanceof DeviceWeight d) {
            return d;
        }
        throw new IllegalArgumentException("the CUDA backend needs its own buffers, got " + weight.getClass().getName());
    }

    /** A tensor in device memory; frees it on close when the backend allocated it. */
    record DeviceWeight(WeightSpec spec, DeviceBuffer buffer, boolean owned) implements WeightBuffer {
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
