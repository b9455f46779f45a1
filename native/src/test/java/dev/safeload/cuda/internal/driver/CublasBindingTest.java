package dev.safeload.cuda.internal.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.safeload.cuda.CudaError;
import dev.safeload.cuda.CudaException;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The cuBLAS binding's descriptors, checked against a C library with cuBLAS's signatures that
 * records what it receives (src/test/c/cublas_stub.c): the one part of the binding a machine
 * without CUDA can verify. A wrong argument order or width shows up as a mismatched record (or a
 * WrongMethodTypeException from invokeExact).
 */
class CublasBindingTest {
    @TempDir static Path dir;
    static Path stub;
    static CublasLibrary library;
    static MethodHandle lastCall;

    @BeforeAll
    @SuppressWarnings("restricted")
    static void buildStub() throws IOException, InterruptedException {
        Path source = Path.of("src/test/c/cublas_stub.c").toAbsolutePath();
        stub = dir.resolve("libcublas_stub.so");
        Process cc;
        try {
            cc =
                    new ProcessBuilder(
                                    "cc",
                                    "-shared",
                                    "-fPIC",
                                    "-O1",
                                    "-o",
                                    stub.toString(),
                                    source.toString())
                            .redirectErrorStream(true)
                            .start();
        } catch (IOException e) {
            Assumptions.abort(
                    "no C compiler (cc) on PATH to build the cuBLAS stand-in: " + e.getMessage());
            return;
        }
        String output = new String(cc.getInputStream().readAllBytes());
        assertTrue(cc.waitFor(60, TimeUnit.SECONDS), "cc timed out");
        assertEquals(0, cc.exitValue(), "cc failed: " + output);
        CublasLibrary.Loaded loaded = CublasLibrary.open(List.of(stub.toString()));
        assertTrue(loaded.library().isPresent(), loaded.problem());
        library = loaded.library().orElseThrow();
        lastCall =
                Linker.nativeLinker()
                        .downcallHandle(
                                SymbolLookup.libraryLookup(stub, Arena.global())
                                        .find("stub_last_call")
                                        .orElseThrow(),
                                FunctionDescriptor.of(ADDRESS));
    }

    static String last() throws Throwable {
        MemorySegment text = (MemorySegment) lastCall.invokeExact();
        return text.reinterpret(4096).getString(0);
    }

    @Test
    void handleLifecycleAndStream() throws Throwable {
        MemorySegment handle = library.create();
        assertEquals(0x1234, handle.address());
        library.setStream(handle, 0xabcdefL);
        assertEquals("setStream 0x1234 0xabcdef", last());
        library.setMathMode(handle, 16);
        assertEquals("setMathMode 0x1234 16", last());
        library.destroy(handle);
        assertEquals("destroy 0x1234", last());
        assertEquals(102, library.property(2));
    }

    @Test
    void gemmExPassesEveryArgumentInPlace() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alpha = arena.allocateFrom(JAVA_FLOAT, 0.5f);
            MemorySegment beta = arena.allocateFrom(JAVA_FLOAT, 1.0f);
            int status =
                    library.gemmEx(
                            MemorySegment.ofAddress(0x10),
                            1,
                            0,
                            3,
                            4,
                            5,
                            alpha,
                            0xa000,
                            2,
                            6,
                            0xb000,
                            14,
                            7,
                            beta,
                            0xc000,
                            0,
                            8,
                            68,
                            -1);
            assertEquals(0, status);
            assertEquals(
                    "gemmEx 0x10 1 0 3 4 5 0.5 0xa000 2 6 0xb000 14 7 1 0xc000 0 8 68 -1", last());
        }
    }

    @Test
    void stridedBatchedPassesSixtyFourBitStrides() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alpha = arena.allocateFrom(JAVA_DOUBLE, -2.0);
            MemorySegment beta = arena.allocateFrom(JAVA_DOUBLE, 0.25);
            library.gemmStridedBatchedEx(
                    MemorySegment.ofAddress(0x10),
                    0,
                    1,
                    3,
                    4,
                    5,
                    alpha,
                    0xa000,
                    1,
                    6,
                    5_000_000_000L,
                    0xb000,
                    1,
                    7,
                    6_000_000_000L,
                    beta,
                    0xc000,
                    1,
                    8,
                    7_000_000_000L,
                    9,
                    70,
                    -1);
            assertEquals(
                    "stridedBatched 0x10 0 1 3 4 5 -2 0xa000 1 6 5000000000 0xb000 1 7 6000000000"
                            + " 0.25 0xc000 1 8 7000000000 9 70 -1",
                    last());
        }
    }

    @Test
    void batchedPassesPointerArraysAndHalfScalars() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alpha = arena.allocateFrom(JAVA_SHORT, Float.floatToFloat16(1.0f));
            MemorySegment beta = arena.allocateFrom(JAVA_SHORT, Float.floatToFloat16(-2.0f));
            library.gemmBatchedEx(
                    MemorySegment.ofAddress(0x10),
                    0,
                    0,
                    3,
                    4,
                    5,
                    alpha,
                    0xa000,
                    2,
                    6,
                    0xb000,
                    2,
                    7,
                    beta,
                    0xc000,
                    2,
                    8,
                    11,
                    64,
                    -1);
            assertEquals(
                    "batched 0x10 0 0 3 4 5 0x3c00 0xa000 2 6 0xb000 2 7 0xc000 0xc000 2 8 11 64"
                            + " -1",
                    last());
        }
    }

    @Test
    void groupedPassesPerGroupArrays() throws Throwable {
        assertTrue(library.hasGroupedGemm());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ta = arena.allocateFrom(JAVA_INT, 0, 1);
            MemorySegment tb = arena.allocateFrom(JAVA_INT, 1, 0);
            MemorySegment m = arena.allocateFrom(JAVA_INT, 2, 3);
            MemorySegment n = arena.allocateFrom(JAVA_INT, 4, 5);
            MemorySegment k = arena.allocateFrom(JAVA_INT, 6, 7);
            MemorySegment alpha = arena.allocateFrom(JAVA_FLOAT, 0.5f, 1.5f);
            MemorySegment beta = arena.allocateFrom(JAVA_FLOAT, 1f, 0f);
            MemorySegment lda = arena.allocateFrom(JAVA_INT, 8, 9);
            MemorySegment ldb = arena.allocateFrom(JAVA_INT, 10, 11);
            MemorySegment ldc = arena.allocateFrom(JAVA_INT, 12, 13);
            MemorySegment size = arena.allocateFrom(JAVA_INT, 14, 15);
            library.gemmGroupedBatchedEx(
                    MemorySegment.ofAddress(0x10),
                    ta,
                    tb,
                    m,
                    n,
                    k,
                    alpha,
                    0xa000,
                    2,
                    lda,
                    0xb000,
                    14,
                    ldb,
                    beta,
                    0xc000,
                    0,
                    ldc,
                    2,
                    size,
                    68);
            assertEquals(
                    "grouped 0x10 0xa000 2 0xb000 14 0xc000 0 2 68 [0 1 2 4 6 0.5 8 10 1 12 14] "
                            + "[1 0 3 5 7 1.5 9 11 0 13 15]",
                    last());
        }
    }

    @Test
    void statusesBecomeNamedExceptions() {
        CudaException e =
                assertThrows(
                        CudaException.class, () -> CublasLibrary.check(7, "cublasGemmEx(m=1)"));
        assertEquals(CudaError.CUBLAS_STATUS_INVALID_VALUE, e.kind());
        assertEquals(7, e.code());
        assertEquals("cublasGemmEx(m=1) failed: CUBLAS_STATUS_INVALID_VALUE (7)", e.getMessage());
        CudaException unknown =
                assertThrows(CudaException.class, () -> CublasLibrary.check(42, "cublasCreate_v2"));
        assertEquals(CudaError.CUBLAS_STATUS_UNKNOWN, unknown.kind());
        assertEquals(42, unknown.code());
        assertTrue(unknown.getMessage().contains("CUBLAS_STATUS_42"), unknown.getMessage());
    }

    @Test
    void missingLibraryNamesEveryCandidateAndTheOverride() {
        CublasLibrary.Loaded loaded =
                CublasLibrary.open(List.of("libcublas.so.99", dir.resolve("nope.so").toString()));
        assertFalse(loaded.library().isPresent());
        assertTrue(loaded.problem().contains("libcublas.so.99"), loaded.problem());
        assertTrue(loaded.problem().contains("nope.so"), loaded.problem());
        assertTrue(loaded.problem().contains(CublasLibrary.PROPERTY), loaded.problem());
        assertTrue(loaded.problem().contains(CublasLibrary.ENVIRONMENT), loaded.problem());
    }

    @Test
    void libraryWithoutARequiredSymbolIsRefused() throws IOException, InterruptedException {
        Path empty = dir.resolve("empty.c");
        Files.writeString(empty, "int unrelated(void) { return 0; }\n");
        Path so = dir.resolve("libempty.so");
        Process cc =
                new ProcessBuilder("cc", "-shared", "-fPIC", "-o", so.toString(), empty.toString())
                        .start();
        assertTrue(cc.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, cc.exitValue());
        CublasLibrary.Loaded loaded = CublasLibrary.open(List.of(so.toString()));
        assertFalse(loaded.library().isPresent());
        assertTrue(loaded.problem().contains("cublasCreate_v2"), loaded.problem());
    }
}
