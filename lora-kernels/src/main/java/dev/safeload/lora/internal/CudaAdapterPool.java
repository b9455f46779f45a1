package dev.safeload.lora.internal;

import dev.safeload.cuda.CublasComputeType;
import dev.safeload.cuda.CublasHandle;
import dev.safeload.cuda.CublasOperation;
import dev.safeload.cuda.CudaDataType;
import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.cuda.DeviceMatrix;
import dev.safeload.cuda.GemmGroup;
import dev.safeload.cuda.internal.Cleanup;
import dev.safeload.lora.Activations;
import dev.safeload.lora.CudaLoraBackend;
import dev.safeload.lora.DeviceActivations;
import dev.safeload.lora.Precision;
import dev.safeload.lora.Segment;
import dev.safeload.lora.WeightSpec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The CUDA serving pool. Each resident module is one device buffer holding A (k × in) and Bᵀ (k ×
 * out, scale folded in) in the activation dtype. A batch is two cuBLAS calls (docs/lora.md §4.3):
 *
 * <ul>
 *   <li>shrink, per segment: {@code t_s (rows_s × k) = x_s · Aᵀ}: column-major {@code tᶜ(k×rows_s)
 *       = op_T(Aᶜ(in×k)) · xᶜ(in×rows_s)};
 *   <li>expand, per segment: {@code y_s += scale · t_s · Bᵀ}: column-major {@code yᶜ(out×rows_s) +=
 *       scale · Btᶜ(out×k) · tᶜ(k×rows_s)} (beta = 1).
 * </ul>
 *
 * With cuBLAS 12.5+ each phase is one {@code cublasGemmGroupedBatchedEx} with one group per segment
 * (segments differ in rows and rank, which the plain batched calls cannot express); otherwise one
 * {@code cublasGemmEx} per segment. {@code t} is kept in the activation dtype because GemmEx needs
 * A and B of one type; that is one extra rounding of the rank-k intermediate compared with the CPU
 * pool, which keeps it fp32 (vLLM keeps fp32 because its Triton kernels can mix types).
 */
public final class CudaAdapterPool extends LruAdapterPool<DeviceBuffer> {
    private final CudaLoraBackend backend;
    private final CublasHandle blas;
    private final CudaDataType type;
    private final Precision precision;
    private final boolean grouped;
    private DeviceBuffer scratch;

    /** Each resident module's geometry (factor arrays dropped once uploaded). */
    private final java.util.IdentityHashMap<DeviceBuffer, ServingFactors> shapes =
            new java.util.IdentityHashMap<>();

    public CudaAdapterPool(
            Collection<WeightSpec> base,
            long capacityBytes,
            CudaLoraBackend backend,
            CublasHandle blas,
            CudaDataType type,
            boolean grouped) {
        super(base, capacityBytes);
        this.backend = backend;
        this.blas = blas;
        this.type = type;
        this.precision = type == CudaDataType.R_16BF ? Precision.BF16 : Precision.F16;
        this.grouped = grouped;
    }

    @Override
    protected long bytesOf(ServingFactors f) {
        return f.parameters() * precision.byteSize();
    }

    @Override
    protected DeviceBuffer upload(ServingFactors f) {
        DeviceBuffer buffer = backend.context().allocate(bytesOf(f));
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment host = arena.allocate(bytesOf(f), 8);
            Numerics.store(f.a(), 0, host, precision, 0, f.a().length);
            Numerics.store(f.bt(), 0, host, precision, f.a().length, f.bt().length);
            buffer.copyFromHost(
                    host, 0); // loads are rare; a synchronous copy keeps the host buffer simple
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        shapes.put(buffer, new ServingFactors(f.weightName(), f.k(), f.in(), f.out(), null, null));
        return buffer;
    }

    @Override
    protected void free(DeviceBuffer module) {
        shapes.remove(module);
        // Queued GEMMs may still read it; if waiting fails (the stream broke) the memory is freed
        // all the same.
        new Cleanup().run(backend::synchronize).close(module).rethrow();
    }

    @Override
    protected void checkShape(
            String weightName, DeviceBuffer module, Activations x, Activations y) {
        ServingFactors f = shapes.get(module);
        shapeMismatch(weightName, f.in(), f.out(), x, y);
        if (x.precision() != precision) {
            throw new IllegalArgumentException(
                    "this pool computes in " + precision + ", activations are " + x.precision());
        }
    }

    @Override
    public void close() {
        Cleanup cleanup = new Cleanup().run(super::close);
        if (scratch != null) {
            cleanup.run(backend::synchronize).close(scratch);
            scratch = null;
        }
        cleanup.rethrow();
    }

    /** One segment's operands. */
    private record Work(
            ServingFactors f,
            DeviceBuffer a,
            DeviceBuffer bt,
            DeviceBuffer x,
            DeviceBuffer y,
            DeviceBuffer t,
            int rows,
            float scale) {}

    @Override
    protected void applyChecked(
            Activations x, Activations y, List<Segment> segments, List<DeviceBuffer> modules) {
        DeviceBuffer xb = device(x).buffer();
        DeviceBuffer yb = device(y).buffer();
        int es = precision.byteSize();
        long scratchElements = 0;
        for (int s = 0; s < segments.size(); s++) {
            if (modules.get(s) != null) {
                scratchElements +=
                        (long) segments.get(s).rowCount() * shapes.get(modules.get(s)).k();
            }
        }
        DeviceBuffer t = scratch(scratchElements * es);
        List<Work> work = new ArrayList<>();
        long tOffset = 0;
        for (int s = 0; s < segments.size(); s++) {
            DeviceBuffer m = modules.get(s);
            Segment seg = segments.get(s);
            if (m == null || seg.rowCount() == 0) {
                continue;
            }
            ServingFactors f = shapes.get(m);
            long aBytes = (long) f.k() * f.in() * es;
            long tBytes = (long) seg.rowCount() * f.k() * es;
            work.add(
                    new Work(
                            f,
                            m.view(0, aBytes),
                            m.view(aBytes, (long) f.k() * f.out() * es),
                            xb.view(
                                    (long) seg.firstRow() * f.in() * es,
                                    (long) seg.rowCount() * f.in() * es),
                            yb.view(
                                    (long) seg.firstRow() * f.out() * es,
                                    (long) seg.rowCount() * f.out() * es),
                            t.view(tOffset, tBytes),
                            seg.rowCount(),
                            seg.scale()));
            tOffset += tBytes;
        }
        if (work.isEmpty()) {
            return;
        }
        if (grouped) {
            try {
                groupedShrinkExpand(work);
            } finally {
                backend.stagingArena()
                        .recordUses(); // the expand GEMM is the last reader of the pointer arrays
            }
        } else {
            for (Work w : work) {
                blas.gemmEx(
                        CublasOperation.T,
                        CublasOperation.N,
                        w.f().k(),
                        w.rows(),
                        w.f().in(),
                        1.0,
                        new DeviceMatrix(w.a(), type, w.f().in()),
                        new DeviceMatrix(w.x(), type, w.f().in()),
                        0.0,
                        new DeviceMatrix(w.t(), type, w.f().k()),
                        CublasComputeType.COMPUTE_32F);
                blas.gemmEx(
                        CublasOperation.N,
                        CublasOperation.N,
                        w.f().out(),
                        w.rows(),
                        w.f().k(),
                        w.scale(),
                        new DeviceMatrix(w.bt(), type, w.f().out()),
                        new DeviceMatrix(w.t(), type, w.f().k()),
                        1.0,
                        new DeviceMatrix(w.y(), type, w.f().out()),
                        CublasComputeType.COMPUTE_32F);
            }
        }
    }

    private void groupedShrinkExpand(List<Work> work) {
        List<GemmGroup> shrink = new ArrayList<>();
        List<GemmGroup> expand = new ArrayList<>();
        long[][] shrinkPointers = new long[3][work.size()];
        long[][] expandPointers = new long[3][work.size()];
        for (int i = 0; i < work.size(); i++) {
            Work w = work.get(i);
            ServingFactors f = w.f();
            shrink.add(
                    new GemmGroup(
                            CublasOperation.T,
                            CublasOperation.N,
                            f.k(),
                            w.rows(),
                            f.in(),
                            1.0,
                            f.in(),
                            f.in(),
                            0.0,
                            f.k(),
                            1));
            expand.add(
                    new GemmGroup(
                            CublasOperation.N,
                            CublasOperation.N,
                            f.out(),
                            w.rows(),
                            f.k(),
                            w.scale(),
                            f.out(),
                            f.k(),
                            1.0,
                            f.out(),
                            1));
            shrinkPointers[0][i] = w.a().address();
            shrinkPointers[1][i] = w.x().address();
            shrinkPointers[2][i] = w.t().address();
            expandPointers[0][i] = w.bt().address();
            expandPointers[1][i] = w.t().address();
            expandPointers[2][i] = w.y().address();
        }
        blas.gemmGroupedBatchedEx(
                shrink,
                pointers(shrinkPointers[0]),
                type,
                pointers(shrinkPointers[1]),
                type,
                pointers(shrinkPointers[2]),
                type,
                CublasComputeType.COMPUTE_32F);
        blas.gemmGroupedBatchedEx(
                expand,
                pointers(expandPointers[0]),
                type,
                pointers(expandPointers[1]),
                type,
                pointers(expandPointers[2]),
                type,
                CublasComputeType.COMPUTE_32F);
    }

    /**
     * A device array of device addresses, staged through pinned memory on the stream; the caller
     * records its uses.
     */
    private DeviceBuffer pointers(long[] addresses) {
        StagingArena.Piece piece =
                backend.stagingArena().allocate((long) addresses.length * Long.BYTES);
        MemorySegment.copy(
                addresses, 0, piece.host(), ValueLayout.JAVA_LONG_UNALIGNED, 0, addresses.length);
        return piece.upload();
    }

    private DeviceBuffer scratch(long bytes) {
        long need = Math.max(bytes, 256);
        if (scratch == null || scratch.byteSize() < need) {
            long size = scratch == null ? need : Math.max(need, 2 * scratch.byteSize());
            if (scratch != null) {
                backend.synchronize(); // queued GEMMs may still use the old scratch
                scratch.close();
                scratch = null;
            }
            scratch = backend.context().allocate(size);
        }
        return scratch;
    }

    private static DeviceActivations device(Activations a) {
        if (a instanceof DeviceActivations d) {
            return d;
        }
        throw new IllegalArgumentException(
                "the CUDA backend needs DeviceActivations, got " + a.getClass().getName());
    }
}
