package dev.safeload.cuda.internal.driver;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.safeload.cuda.CudaError;
import dev.safeload.cuda.CudaException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The cuBLAS entry points safeload uses, bound with java.lang.foreign. JCublas 12.6's JNI library
 * links {@code libcublas.so.12} by versioned symbols and cannot load on CUDA 13 hosts; these
 * functions have kept their signatures from CUDA 12.0 to 13.x, so one binding opens {@code
 * libcublas.so.13} or {@code .so.12} (docs/lora.md §4.2, §4.5). Arguments are raw: handles and
 * device pointers as addresses. {@code cublasGemmGroupedBatchedEx} exists from cuBLAS 12.5 on and
 * is optional.
 */
public final class CublasLibrary {
    /** System property naming the library (a file name the loader finds, or a path). */
    public static final String PROPERTY = "safeload.cublas.library";

    /** Environment variable naming the library, used when the property is not set. */
    public static final String ENVIRONMENT = "SAFELOAD_CUBLAS_LIBRARY";

    /** Names tried in order when neither is set. */
    public static final List<String> DEFAULT_NAMES = List.of("libcublas.so.13", "libcublas.so.12");

    private final String library;
    private final MethodHandle create;
    private final MethodHandle destroy;
    private final MethodHandle setStream;
    private final MethodHandle setMathMode;
    private final MethodHandle getProperty;
    private final MethodHandle gemmEx;
    private final MethodHandle gemmStridedBatchedEx;
    private final MethodHandle gemmBatchedEx;
    private final MethodHandle gemmGroupedBatchedEx;

    private CublasLibrary(String library, SymbolLookup lookup) {
        this.library = library;
        Linker linker = Linker.nativeLinker();
        this.create = bind(linker, lookup, "cublasCreate_v2", ADDRESS);
        this.destroy = bind(linker, lookup, "cublasDestroy_v2", ADDRESS);
        this.setStream = bind(linker, lookup, "cublasSetStream_v2", ADDRESS, ADDRESS);
        this.setMathMode = bind(linker, lookup, "cublasSetMathMode", ADDRESS, JAVA_INT);
        this.getProperty = bind(linker, lookup, "cublasGetProperty", JAVA_INT, ADDRESS);
        // handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype,
        // ldc, computeType, algo
        this.gemmEx =
                bind(
                        linker,
                        lookup,
                        "cublasGemmEx",
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        ADDRESS,
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        ADDRESS,
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT);
        // as GemmEx with "long long stride" after each ld and "int batchCount" before computeType
        this.gemmStridedBatchedEx =
                bind(
                        linker,
                        lookup,
                        "cublasGemmStridedBatchedEx",
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        ADDRESS,
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_LONG,
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_LONG,
                        ADDRESS,
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_LONG,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT);
        // as GemmEx with device arrays of pointers for A, B, C and "int batchCount" before
        // computeType
        this.gemmBatchedEx =
                bind(
                        linker,
                        lookup,
                        "cublasGemmBatchedEx",
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        ADDRESS,
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        ADDRESS,
                        ADDRESS,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT,
                        JAVA_INT);
        // handle, transa[], transb[], m[], n[], k[], alpha[], Aarray, Atype, lda[], Barray, Btype,
        // ldb[], beta[],
        // Carray, Ctype, ldc[], group_count, group_size[], computeType (no algo)
        this.gemmGroupedBatchedEx =
                lookup.find("cublasGemmGroupedBatchedEx")
                        .map(
                                symbol ->
                                        linker.downcallHandle(
                                                symbol,
                                                FunctionDescriptor.of(
                                                        JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                                                        ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                                                        JAVA_INT, ADDRESS, ADDRESS, JAVA_INT,
                                                        ADDRESS, ADDRESS, ADDRESS, JAVA_INT,
                                                        ADDRESS, JAVA_INT, ADDRESS, JAVA_INT)))
                        .orElse(null);
    }

    /** What {@link #open()} found: the library, or why there is none. */
    public record Loaded(Optional<CublasLibrary> library, String problem) {}

    /** Opens the library named by the property, the environment variable, or the default names. */
    public static Loaded open() {
        String configured = System.getProperty(PROPERTY);
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(ENVIRONMENT);
        }
        List<String> names =
                configured == null || configured.isBlank()
                        ? DEFAULT_NAMES
                        : List.of(configured.trim());
        return open(names);
    }

    /** Opens the first of {@code names} that loads and has every required entry point. */
    public static Loaded open(List<String> names) {
        List<String> problems = new ArrayList<>();
        for (String name : names) {
            try {
                return new Loaded(Optional.of(new CublasLibrary(name, lookup(name))), "");
            } catch (IllegalArgumentException | UnsatisfiedLinkError | IllegalStateException e) {
                problems.add(name + ": " + e.getMessage());
            } catch (IllegalCallerException e) {
                problems.add(
                        name
                                + ": native access denied; start the JVM with"
                                + " --enable-native-access=ALL-UNNAMED");
            }
        }
        return new Loaded(
                Optional.empty(),
                "cannot open cuBLAS ("
                        + String.join("; ", problems)
                        + "); install the CUDA "
                        + "toolkit's libcublas, or name the library with -D"
                        + PROPERTY
                        + "=PATH or "
                        + ENVIRONMENT
                        + "=PATH");
    }

    @SuppressWarnings("restricted")
    private static SymbolLookup lookup(String name) {
        // Global arena: the library stays loaded for the life of the process, like any system
        // library.
        Path path = Path.of(name);
        return name.contains("/") || Files.exists(path)
                ? SymbolLookup.libraryLookup(path, Arena.global())
                : SymbolLookup.libraryLookup(name, Arena.global());
    }

    @SuppressWarnings("restricted")
    private static MethodHandle bind(
            Linker linker,
            SymbolLookup lookup,
            String symbol,
            java.lang.foreign.MemoryLayout... arguments) {
        MemorySegment address =
                lookup.find(symbol)
                        .orElseThrow(
                                () -> new IllegalStateException("the library lacks " + symbol));
        return linker.downcallHandle(address, FunctionDescriptor.of(JAVA_INT, arguments));
    }

    /** The library name or path that was opened. */
    public String library() {
        return library;
    }

    /** Whether {@code cublasGemmGroupedBatchedEx} exists (cuBLAS 12.5 and later). */
    public boolean hasGroupedGemm() {
        return gemmGroupedBatchedEx != null;
    }

    /**
     * Throws a {@link CudaException} naming {@code call} unless {@code status} is {@code
     * CUBLAS_STATUS_SUCCESS}.
     */
    public static void check(int status, String call) {
        if (status != 0) {
            CudaError kind = CudaError.ofCublasStatus(status);
            String name =
                    kind == CudaError.CUBLAS_STATUS_UNKNOWN
                            ? "CUBLAS_STATUS_" + status
                            : kind.name();
            throw new CudaException(
                    kind,
                    status,
                    call,
                    String.format(Locale.ROOT, "%s failed: %s (%d)", call, name, status),
                    null);
        }
    }

    /** {@code cublasGetProperty}: 0 major, 1 minor, 2 patch level. */
    public int property(int type) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            check(
                    invoke(() -> (int) getProperty.invokeExact(type, value)),
                    "cublasGetProperty(" + type + ")");
            return value.get(JAVA_INT, 0);
        }
    }

    /**
     * {@code cublasCreate_v2}; uses the context current on the calling thread. Returns the handle.
     */
    public MemorySegment create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check(invoke(() -> (int) create.invokeExact(out)), "cublasCreate_v2");
            return out.get(ADDRESS, 0);
        }
    }

    public void destroy(MemorySegment handle) {
        check(invoke(() -> (int) destroy.invokeExact(handle)), "cublasDestroy_v2");
    }

    public void setStream(MemorySegment handle, long stream) {
        check(
                invoke(() -> (int) setStream.invokeExact(handle, MemorySegment.ofAddress(stream))),
                "cublasSetStream_v2");
    }

    public void setMathMode(MemorySegment handle, int mode) {
        check(
                invoke(() -> (int) setMathMode.invokeExact(handle, mode)),
                "cublasSetMathMode(" + mode + ")");
    }

    public int gemmEx(
            MemorySegment handle,
            int transa,
            int transb,
            int m,
            int n,
            int k,
            MemorySegment alpha,
            long a,
            int aType,
            int lda,
            long b,
            int bType,
            int ldb,
            MemorySegment beta,
            long c,
            int cType,
            int ldc,
            int computeType,
            int algo) {
        return invoke(
                () ->
                        (int)
                                gemmEx.invokeExact(
                                        handle,
                                        transa,
                                        transb,
                                        m,
                                        n,
                                        k,
                                        alpha,
                                        MemorySegment.ofAddress(a),
                                        aType,
                                        lda,
                                        MemorySegment.ofAddress(b),
                                        bType,
                                        ldb,
                                        beta,
                                        MemorySegment.ofAddress(c),
                                        cType,
                                        ldc,
                                        computeType,
                                        algo));
    }

    public int gemmStridedBatchedEx(
            MemorySegment handle,
            int transa,
            int transb,
            int m,
            int n,
            int k,
            MemorySegment alpha,
            long a,
            int aType,
            int lda,
            long strideA,
            long b,
            int bType,
            int ldb,
            long strideB,
            MemorySegment beta,
            long c,
            int cType,
            int ldc,
            long strideC,
            int batchCount,
            int computeType,
            int algo) {
        return invoke(
                () ->
                        (int)
                                gemmStridedBatchedEx.invokeExact(
                                        handle,
                                        transa,
                                        transb,
                                        m,
                                        n,
                                        k,
                                        alpha,
                                        MemorySegment.ofAddress(a),
                                        aType,
                                        lda,
                                        strideA,
                                        MemorySegment.ofAddress(b),
                                        bType,
                                        ldb,
                                        strideB,
                                        beta,
                                        MemorySegment.ofAddress(c),
                                        cType,
                                        ldc,
                                        strideC,
                                        batchCount,
                                        computeType,
                                        algo));
    }

    public int gemmBatchedEx(
            MemorySegment handle,
            int transa,
            int transb,
            int m,
            int n,
            int k,
            MemorySegment alpha,
            long aArray,
            int aType,
            int lda,
            long bArray,
            int bType,
            int ldb,
            MemorySegment beta,
            long cArray,
            int cType,
            int ldc,
            int batchCount,
            int computeType,
            int algo) {
        return invoke(
                () ->
                        (int)
                                gemmBatchedEx.invokeExact(
                                        handle,
                                        transa,
                                        transb,
                                        m,
                                        n,
                                        k,
                                        alpha,
                                        MemorySegment.ofAddress(aArray),
                                        aType,
                                        lda,
                                        MemorySegment.ofAddress(bArray),
                                        bType,
                                        ldb,
                                        beta,
                                        MemorySegment.ofAddress(cArray),
                                        cType,
                                        ldc,
                                        batchCount,
                                        computeType,
                                        algo));
    }

    /** Host arrays (one entry per group) as segments; pointer arrays as device addresses. */
    public int gemmGroupedBatchedEx(
            MemorySegment handle,
            MemorySegment transa,
            MemorySegment transb,
            MemorySegment m,
            MemorySegment n,
            MemorySegment k,
            MemorySegment alpha,
            long aArray,
            int aType,
            MemorySegment lda,
            long bArray,
            int bType,
            MemorySegment ldb,
            MemorySegment beta,
            long cArray,
            int cType,
            MemorySegment ldc,
            int groupCount,
            MemorySegment groupSize,
            int computeType) {
        if (gemmGroupedBatchedEx == null) {
            throw new CudaException(
                    CudaError.CUBLAS_UNAVAILABLE,
                    "cublasGemmGroupedBatchedEx",
                    library + " has no cublasGemmGroupedBatchedEx (it needs cuBLAS 12.5 or later)",
                    null);
        }
        return invoke(
                () ->
                        (int)
                                gemmGroupedBatchedEx.invokeExact(
                                        handle,
                                        transa,
                                        transb,
                                        m,
                                        n,
                                        k,
                                        alpha,
                                        MemorySegment.ofAddress(aArray),
                                        aType,
                                        lda,
                                        MemorySegment.ofAddress(bArray),
                                        bType,
                                        ldb,
                                        beta,
                                        MemorySegment.ofAddress(cArray),
                                        cType,
                                        ldc,
                                        groupCount,
                                        groupSize,
                                        computeType));
    }

    @FunctionalInterface
    private interface NativeCall {
        int call() throws Throwable;
    }

    private static int invoke(NativeCall call) {
        try {
            return call.call();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            // invokeExact declares Throwable; a downcall itself throws nothing checked.
            throw new IllegalStateException(e);
        }
    }
}
