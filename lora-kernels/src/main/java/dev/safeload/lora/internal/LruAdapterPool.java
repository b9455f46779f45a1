package dev.safeload.lora.internal;

import dev.safeload.Cleanup;
import dev.safeload.lora.Activations;
import dev.safeload.lora.AdapterPool;
import dev.safeload.lora.LoraAdapter;
import dev.safeload.lora.LoraError;
import dev.safeload.lora.LoraException;
import dev.safeload.lora.Segment;
import dev.safeload.lora.WeightSpec;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The bookkeeping every backend's pool shares: binding, byte accounting, least-recently-used
 * eviction and segment checks. Subclasses own the memory of one resident module ({@code M}).
 */
public abstract class LruAdapterPool<M> implements AdapterPool {
    /** A resident adapter: its modules by base weight name and the bytes they occupy. */
    protected record Resident<M>(Map<String, M> modules, long bytes) {}

    private final List<WeightSpec> base;
    private final long capacityBytes;
    private final LinkedHashMap<String, Resident<M>> resident =
            new LinkedHashMap<>(16, 0.75f, true);
    private long usedBytes;
    private boolean closed;

    protected LruAdapterPool(Collection<WeightSpec> base, long capacityBytes) {
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacityBytes must be positive: " + capacityBytes);
        }
        this.base = List.copyOf(base);
        this.capacityBytes = capacityBytes;
    }

    /** Bytes one module of {@code factors} occupies in this backend. */
    protected abstract long bytesOf(ServingFactors factors);

    /** Copies one module's factors into backend memory. */
    protected abstract M upload(ServingFactors factors);

    /** Frees one module (after any queued work that reads it). */
    protected abstract void free(M module);

    /**
     * Adds the deltas; segments are checked, each paired with its resident module (null: not
     * adapted).
     */
    protected abstract void applyChecked(
            Activations x, Activations y, List<Segment> segments, List<M> modules);

    @Override
    public final void load(String id, LoraAdapter adapter) {
        Objects.requireNonNull(id, "id");
        checkOpen();
        Map<String, ServingFactors> factors = ServingFactors.of(base, adapter);
        long bytes = factors.values().stream().mapToLong(this::bytesOf).sum();
        if (bytes > capacityBytes) {
            throw LoraException.of(
                    LoraError.AdapterNotLoaded,
                    "adapter %s needs %d bytes, more than the pool's whole capacity of %d bytes",
                    id,
                    bytes,
                    capacityBytes);
        }
        unload(id);
        while (usedBytes + bytes > capacityBytes) {
            unload(
                    resident.keySet()
                            .iterator()
                            .next()); // access order: first = least recently used
        }
        Map<String, M> modules = new LinkedHashMap<>();
        try {
            for (ServingFactors f : factors.values()) {
                modules.put(f.weightName(), upload(f));
            }
        } catch (RuntimeException e) {
            freeAll(modules.values(), new Cleanup(e));
            throw e;
        }
        resident.put(id, new Resident<>(modules, bytes));
        usedBytes += bytes;
    }

    @Override
    public final boolean unload(String id) {
        Resident<M> r = resident.remove(id);
        if (r == null) {
            return false;
        }
        usedBytes -= r.bytes();
        freeAll(r.modules().values(), new Cleanup());
        return true;
    }

    /** Frees every module even if freeing one fails, then throws the first failure. */
    private void freeAll(Collection<M> modules, Cleanup cleanup) {
        for (M m : modules) {
            cleanup.run(() -> free(m));
        }
        cleanup.rethrow();
    }

    @Override
    public final List<String> loaded() {
        return List.copyOf(resident.keySet());
    }

    @Override
    public final long usedBytes() {
        return usedBytes;
    }

    @Override
    public final long capacityBytes() {
        return capacityBytes;
    }

    @Override
    public final void apply(
            String weightName, Activations x, Activations y, List<Segment> segments) {
        checkOpen();
        if (x.rows() != y.rows() || x.precision() != y.precision()) {
            throw new IllegalArgumentException(
                    "x is "
                            + x.rows()
                            + " rows of "
                            + x.precision()
                            + ", y is "
                            + y.rows()
                            + " rows of "
                            + y.precision()
                            + "; they must match");
        }
        List<Segment> sorted = new ArrayList<>(segments);
        sorted.sort(Comparator.comparingInt(Segment::firstRow));
        int end = 0;
        for (Segment s : sorted) {
            if (s.firstRow() < end || s.endRow() > x.rows()) {
                throw new IllegalArgumentException(
                        "segment " + s + " overlaps another or runs past row " + x.rows());
            }
            end = s.endRow();
        }
        List<M> modules = new ArrayList<>(segments.size());
        for (Segment s : segments) {
            Resident<M> r = resident.get(s.adapterId()); // get() marks it recently used
            if (r == null) {
                throw LoraException.of(
                        LoraError.AdapterNotLoaded,
                        "adapter %s is not loaded (loaded: %s)",
                        s.adapterId(),
                        resident.keySet());
            }
            M module = r.modules().get(weightName);
            if (module != null) {
                checkShape(weightName, module, x, y);
            }
            modules.add(module);
        }
        applyChecked(x, y, segments, modules);
    }

    /** Checks x (tokens × in) and y (tokens × out) against one module. */
    protected abstract void checkShape(String weightName, M module, Activations x, Activations y);

    /** Throws the shape error all backends report. */
    protected static void shapeMismatch(
            String weightName, int in, int out, Activations x, Activations y) {
        if (x.cols() != in || y.cols() != out) {
            throw LoraException.of(
                    LoraError.ShapeMismatch,
                    "%s: adapter expects x with %d columns and y with %d, got x %dx%d and y %dx%d",
                    weightName,
                    in,
                    out,
                    x.rows(),
                    x.cols(),
                    y.rows(),
                    y.cols());
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cleanup cleanup = new Cleanup();
            for (String id : List.copyOf(resident.keySet())) {
                cleanup.run(() -> unload(id));
            }
            cleanup.rethrow();
        }
    }

    /** Whether {@link #close()} was called. */
    public final boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("adapter pool is closed");
        }
    }
}
