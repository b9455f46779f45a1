// An emulated cuBLAS (libcublas.so.13) for machines without a GPU, over the emulated driver in
// fake_cuda.cpp: the entry points safeload binds through java.lang.foreign, computed on the host in
// column-major order exactly as the cuBLAS documentation defines them (cuBLAS Library, "cublasGemmEx",
// "cublasGemmBatchedEx", "cublasGemmStridedBatchedEx", "cublasGemmGroupedBatchedEx"):
//   C = alpha * op(A) * op(B) + beta * C, with op(A) m x k, op(B) k x n, C m x n, leading dimensions
//   lda >= rows of A as stored, and C not read when beta == 0.
// Arguments are validated as cuBLAS does (CUBLAS_STATUS_INVALID_VALUE for bad sizes or leading
// dimensions, CUBLAS_STATUS_NOT_SUPPORTED for type combinations it lacks), every matrix must lie in
// live device memory, and the work runs in the order of the stream the handle is bound to. Host
// pointer mode: alpha and beta are read when the call is made.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "emulator.h"

namespace {

enum : int {
    CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_INITIALIZED = 1, CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_EXECUTION_FAILED = 13, CUBLAS_STATUS_NOT_SUPPORTED = 15,
};
enum : int { CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14 };
enum : int {
    CUBLAS_COMPUTE_16F = 64, CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_16F = 74,
    CUBLAS_COMPUTE_32F_FAST_16BF = 75, CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
};

struct Handle {
    void *stream = nullptr;
    int mathMode = 0;
};

float halfToFloat(uint16_t h) {
    _Float16 v;
    memcpy(&v, &h, 2);
    return (float) v;
}

uint16_t floatToHalf(float f) {
    _Float16 v = (_Float16) f;  // round to nearest even, as the GPU's conversion
    uint16_t h;
    memcpy(&h, &v, 2);
    return h;
}

float bf16ToFloat(uint16_t b) {
    uint32_t bits = (uint32_t) b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t floatToBf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0;
    return (uint16_t) ((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

size_t typeBytes(int type) { return type == CUDA_R_32F ? 4 : 2; }

float load(const void *base, int type, size_t index) {
    switch (type) {
        case CUDA_R_32F: return ((const float *) base)[index];
        case CUDA_R_16F: return halfToFloat(((const uint16_t *) base)[index]);
        default: return bf16ToFloat(((const uint16_t *) base)[index]);
    }
}

void store(void *base, int type, size_t index, float value) {
    switch (type) {
        case CUDA_R_32F: ((float *) base)[index] = value; break;
        case CUDA_R_16F: ((uint16_t *) base)[index] = floatToHalf(value); break;
        default: ((uint16_t *) base)[index] = floatToBf16(value);
    }
}

bool knownType(int t) { return t == CUDA_R_32F || t == CUDA_R_16F || t == CUDA_R_16BF; }

// The type combinations of the cublasGemmEx table that safeload can use.
int checkTypes(int a, int b, int c, int compute, bool *halfScalars) {
    if (!knownType(a) || !knownType(b) || !knownType(c)) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (compute == CUBLAS_COMPUTE_16F) {
        if (a != CUDA_R_16F || b != CUDA_R_16F || c != CUDA_R_16F) return CUBLAS_STATUS_NOT_SUPPORTED;
        *halfScalars = true;
        return CUBLAS_STATUS_SUCCESS;
    }
    if (compute != CUBLAS_COMPUTE_32F && compute != CUBLAS_COMPUTE_32F_FAST_16F
            && compute != CUBLAS_COMPUTE_32F_FAST_16BF && compute != CUBLAS_COMPUTE_32F_FAST_TF32) {
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    if (a != b) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (a == CUDA_R_32F && c != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (a != CUDA_R_32F && c != a && c != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
    *halfScalars = false;
    return CUBLAS_STATUS_SUCCESS;
}

float scalar(const void *p, bool half, size_t index) {
    return half ? halfToFloat(((const uint16_t *) p)[index]) : ((const float *) p)[index];
}

// One GEMM's shape and operands; `a`, `b`, `c` are device addresses.
struct Gemm {
    int ta, tb, m, n, k, lda, ldb, ldc;
    int aType, bType, cType;
    float alpha, beta;
    uintptr_t a, b, c;
};

// Extent in elements of a column-major matrix with `rows` x `cols` stored at leading dimension ld.
size_t extent(int rows, int cols, int ld) {
    return rows == 0 || cols == 0 ? 0 : (size_t) ld * (cols - 1) + rows;
}

int checkShape(int ta, int tb, int m, int n, int k, int lda, int ldb, int ldc) {
    if (ta < 0 || ta > 2 || tb < 0 || tb > 2 || m < 0 || n < 0 || k < 0) return CUBLAS_STATUS_INVALID_VALUE;
    int aRows = ta == 0 ? m : k;
    int bRows = tb == 0 ? k : n;
    if (lda < (aRows > 1 ? aRows : 1) || ldb < (bRows > 1 ? bRows : 1) || ldc < (m > 1 ? m : 1)) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    return CUBLAS_STATUS_SUCCESS;
}

bool inDevice(const Gemm &g, std::string *why) {
    size_t aExtent = g.ta == 0 ? extent(g.m, g.k, g.lda) : extent(g.k, g.m, g.lda);
    size_t bExtent = g.tb == 0 ? extent(g.k, g.n, g.ldb) : extent(g.n, g.k, g.ldb);
    size_t cExtent = extent(g.m, g.n, g.ldc);
    bool useAB = g.k > 0 && g.alpha != 0.0f;
    if (useAB && !safeload_emulator_device_range(g.a, aExtent * typeBytes(g.aType))) { *why = "A"; return false; }
    if (useAB && !safeload_emulator_device_range(g.b, bExtent * typeBytes(g.bType))) { *why = "B"; return false; }
    if (!safeload_emulator_device_range(g.c, cExtent * typeBytes(g.cType))) { *why = "C"; return false; }
    return true;
}

void run(const Gemm &g) {
    std::string why;
    if (!inDevice(g, &why)) {
        std::string what = "cublas GEMM: matrix " + why + " is not inside device memory";
        safeload_emulator_fault(what.c_str());
        return;
    }
    const void *a = (const void *) g.a;
    const void *b = (const void *) g.b;
    void *c = (void *) g.c;
    for (int j = 0; j < g.n; j++) {
        for (int i = 0; i < g.m; i++) {
            float sum = 0.0f;  // fp32 accumulation (CUBLAS_COMPUTE_32F)
            if (g.alpha != 0.0f) {
                for (int p = 0; p < g.k; p++) {
                    float x = load(a, g.aType, g.ta == 0 ? (size_t) p * g.lda + i : (size_t) i * g.lda + p);
                    float y = load(b, g.bType, g.tb == 0 ? (size_t) j * g.ldb + p : (size_t) p * g.ldb + j);
                    sum += x * y;
                }
            }
            size_t at = (size_t) j * g.ldc + i;
            float result = g.alpha * sum;
            if (g.beta != 0.0f) result += g.beta * load(c, g.cType, at);  // beta == 0: C is not read
            store(c, g.cType, at, result);
        }
    }
}

struct Batch {
    std::vector<Gemm> gemms;
    // Batched and grouped calls take device arrays of pointers, read when the work runs.
    uintptr_t aArray = 0, bArray = 0, cArray = 0;
};

void runBatch(void *argument) {
    Batch *batch = (Batch *) argument;
    size_t count = batch->gemms.size();
    if (batch->aArray) {
        size_t bytes = count * sizeof(uintptr_t);
        if (!safeload_emulator_device_range(batch->aArray, bytes) || !safeload_emulator_device_range(batch->bArray, bytes)
                || !safeload_emulator_device_range(batch->cArray, bytes)) {
            safeload_emulator_fault("cublas batched GEMM: an array of matrix pointers is not inside device memory");
            delete batch;
            return;
        }
        for (size_t i = 0; i < count; i++) {
            batch->gemms[i].a = ((const uintptr_t *) batch->aArray)[i];
            batch->gemms[i].b = ((const uintptr_t *) batch->bArray)[i];
            batch->gemms[i].c = ((const uintptr_t *) batch->cArray)[i];
        }
    }
    for (const Gemm &g : batch->gemms) run(g);
    delete batch;
}

// What cublasGemmEx and its two batched forms check before anything is queued.
int checkCall(void *handle, int aType, int bType, int cType, int compute, int ta, int tb, int m, int n, int k, int lda,
              int ldb, int ldc, const void *alpha, const void *beta, bool *half) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    int status = checkTypes(aType, bType, cType, compute, half);
    if (status) return status;
    if ((status = checkShape(ta, tb, m, n, k, lda, ldb, ldc))) return status;
    return !alpha || !beta ? CUBLAS_STATUS_INVALID_VALUE : CUBLAS_STATUS_SUCCESS;
}

int submit(Handle *h, Batch *batch) {
    int status = safeload_emulator_submit(h->stream, runBatch, batch);
    if (status != 0) {
        delete batch;
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

extern "C" int cublasCreate_v2(void **handle) {
    if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
    if (!safeload_emulator_has_context()) return CUBLAS_STATUS_NOT_INITIALIZED;
    *handle = new Handle();
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" int cublasDestroy_v2(void *handle) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    delete (Handle *) handle;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" int cublasSetStream_v2(void *handle, void *stream) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    ((Handle *) handle)->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" int cublasSetMathMode(void *handle, int mode) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (mode < 0 || (mode & ~0x1F)) return CUBLAS_STATUS_INVALID_VALUE;
    ((Handle *) handle)->mathMode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" int cublasGetProperty(int type, int *value) {
    if (!value) return CUBLAS_STATUS_INVALID_VALUE;
    switch (type) {
        case 0: *value = 13; return CUBLAS_STATUS_SUCCESS;
        case 1: *value = 0; return CUBLAS_STATUS_SUCCESS;
        case 2: *value = 0; return CUBLAS_STATUS_SUCCESS;
        default: return CUBLAS_STATUS_INVALID_VALUE;
    }
}

extern "C" int cublasGemmEx(void *handle, int ta, int tb, int m, int n, int k, const void *alpha, const void *a,
                            int aType, int lda, const void *b, int bType, int ldb, const void *beta, void *c, int cType,
                            int ldc, int compute, int algo) {
    (void) algo;
    bool half = false;
    int status = checkCall(handle, aType, bType, cType, compute, ta, tb, m, n, k, lda, ldb, ldc, alpha, beta, &half);
    if (status) return status;
    Gemm g{ta, tb, m, n, k, lda, ldb, ldc, aType, bType, cType, scalar(alpha, half, 0), scalar(beta, half, 0),
           (uintptr_t) a, (uintptr_t) b, (uintptr_t) c};
    return submit((Handle *) handle, new Batch{{g}});
}

extern "C" int cublasGemmStridedBatchedEx(void *handle, int ta, int tb, int m, int n, int k, const void *alpha,
                                          const void *a, int aType, int lda, long long strideA, const void *b,
                                          int bType, int ldb, long long strideB, const void *beta, void *c, int cType,
                                          int ldc, long long strideC, int count, int compute, int algo) {
    (void) algo;
    bool half = false;
    int status = checkCall(handle, aType, bType, cType, compute, ta, tb, m, n, k, lda, ldb, ldc, alpha, beta, &half);
    if (status) return status;
    if (count < 0) return CUBLAS_STATUS_INVALID_VALUE;
    Batch *batch = new Batch();
    for (int i = 0; i < count; i++) {
        batch->gemms.push_back(Gemm{ta, tb, m, n, k, lda, ldb, ldc, aType, bType, cType, scalar(alpha, half, 0),
                scalar(beta, half, 0), (uintptr_t) a + (uintptr_t) (i * strideA * (long long) typeBytes(aType)),
                (uintptr_t) b + (uintptr_t) (i * strideB * (long long) typeBytes(bType)),
                (uintptr_t) c + (uintptr_t) (i * strideC * (long long) typeBytes(cType))});
    }
    return submit((Handle *) handle, batch);
}

extern "C" int cublasGemmBatchedEx(void *handle, int ta, int tb, int m, int n, int k, const void *alpha,
                                   const void *const aArray[], int aType, int lda, const void *const bArray[],
                                   int bType, int ldb, const void *beta, void *const cArray[], int cType, int ldc,
                                   int count, int compute, int algo) {
    (void) algo;
    bool half = false;
    int status = checkCall(handle, aType, bType, cType, compute, ta, tb, m, n, k, lda, ldb, ldc, alpha, beta, &half);
    if (status) return status;
    if (count < 0) return CUBLAS_STATUS_INVALID_VALUE;
    Batch *batch = new Batch();
    for (int i = 0; i < count; i++) {
        batch->gemms.push_back(Gemm{ta, tb, m, n, k, lda, ldb, ldc, aType, bType, cType, scalar(alpha, half, 0),
                scalar(beta, half, 0), 0, 0, 0});
    }
    batch->aArray = (uintptr_t) aArray;
    batch->bArray = (uintptr_t) bArray;
    batch->cArray = (uintptr_t) cArray;
    return submit((Handle *) handle, batch);
}

extern "C" int cublasGemmGroupedBatchedEx(void *handle, const int ta[], const int tb[], const int m[], const int n[],
                                          const int k[], const void *alpha, const void *const aArray[], int aType,
                                          const int lda[], const void *const bArray[], int bType, const int ldb[],
                                          const void *beta, void *const cArray[], int cType, const int ldc[],
                                          int groups, const int groupSize[], int compute) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    bool half = false;
    int status = checkTypes(aType, bType, cType, compute, &half);
    if (status) return status;
    // The grouped GEMM takes fp32 scalars only with the 32F compute types (cuBLAS 12.5 documentation).
    if (half) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (groups < 0 || (groups > 0 && (!ta || !tb || !m || !n || !k || !alpha || !lda || !ldb || !beta || !ldc
            || !groupSize))) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    Batch *batch = new Batch();
    for (int g = 0; g < groups; g++) {
        if (groupSize[g] < 0 || (status = checkShape(ta[g], tb[g], m[g], n[g], k[g], lda[g], ldb[g], ldc[g]))) {
            delete batch;
            return status ? status : CUBLAS_STATUS_INVALID_VALUE;
        }
        for (int i = 0; i < groupSize[g]; i++) {
            batch->gemms.push_back(Gemm{ta[g], tb[g], m[g], n[g], k[g], lda[g], ldb[g], ldc[g], aType, bType, cType,
                    scalar(alpha, false, g), scalar(beta, false, g), 0, 0, 0});
        }
    }
    batch->aArray = (uintptr_t) aArray;
    batch->bArray = (uintptr_t) bArray;
    batch->cArray = (uintptr_t) cArray;
    return submit((Handle *) handle, batch);
}
