/*
 * A stand-in for libcublas with the same entry points and C signatures (docs/lora.md §4.2),
 * used where no CUDA exists: each function records the arguments it received, so a test can check
 * that the java.lang.foreign descriptors put every argument where cuBLAS expects it. It computes
 * nothing. Built by CublasBindingTest with the system C compiler.
 */
#include <stdio.h>
#include <stdint.h>

static char last[4096];
static int next_status = 0;

const char *stub_last_call(void) { return last; }
void stub_set_status(int status) { next_status = status; }

int cublasCreate_v2(void **handle) {
    *handle = (void *) (uintptr_t) 0x1234;
    snprintf(last, sizeof last, "create");
    return next_status;
}
int cublasDestroy_v2(void *handle) {
    snprintf(last, sizeof last, "destroy %p", handle);
    return next_status;
}
int cublasSetStream_v2(void *handle, void *stream) {
    snprintf(last, sizeof last, "setStream %p %p", handle, stream);
    return next_status;
}
int cublasSetMathMode(void *handle, int mode) {
    snprintf(last, sizeof last, "setMathMode %p %d", handle, mode);
    return next_status;
}
int cublasGetProperty(int type, int *value) {
    *value = 100 + type;
    snprintf(last, sizeof last, "getProperty %d", type);
    return next_status;
}
int cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int at, int lda,
                 const void *b, int bt, int ldb, const void *beta, void *c, int ct, int ldc, int compute, int algo) {
    snprintf(last, sizeof last, "gemmEx %p %d %d %d %d %d %g %p %d %d %p %d %d %g %p %d %d %d %d", h, ta, tb, m, n, k,
             *(const float *) alpha, a, at, lda, b, bt, ldb, *(const float *) beta, c, ct, ldc, compute, algo);
    return next_status;
}
int cublasGemmStridedBatchedEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int at,
                               int lda, long long sa, const void *b, int bt, int ldb, long long sb, const void *beta,
                               void *c, int ct, int ldc, long long sc, int batch, int compute, int algo) {
    snprintf(last, sizeof last, "stridedBatched %p %d %d %d %d %d %g %p %d %d %lld %p %d %d %lld %g %p %d %d %lld %d %d %d",
             h, ta, tb, m, n, k, *(const double *) alpha, a, at, lda, sa, b, bt, ldb, sb, *(const double *) beta, c,
             ct, ldc, sc, batch, compute, algo);
    return next_status;
}
int cublasGemmBatchedEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *const a[], int at,
                        int lda, const void *const b[], int bt, int ldb, const void *beta, void *const c[], int ct,
                        int ldc, int batch, int compute, int algo) {
    snprintf(last, sizeof last, "batched %p %d %d %d %d %d 0x%04x %p %d %d %p %d %d 0x%04x %p %d %d %d %d %d", h, ta, tb,
             m, n, k, *(const unsigned short *) alpha, (const void *) a, at, lda, (const void *) b, bt, ldb,
             *(const unsigned short *) beta, (void *) c, ct, ldc, batch, compute, algo);
    return next_status;
}
int cublasGemmGroupedBatchedEx(void *h, const int ta[], const int tb[], const int m[], const int n[], const int k[],
                               const void *alpha, const void *const a[], int at, const int lda[],
                               const void *const b[], int bt, const int ldb[], const void *beta, void *const c[],
                               int ct, const int ldc[], int groups, const int size[], int compute) {
    int used = snprintf(last, sizeof last, "grouped %p %p %d %p %d %p %d %d %d", h, (const void *) a, at,
                        (const void *) b, bt, (void *) c, ct, groups, compute);
    for (int g = 0; g < groups && used < (int) sizeof last; g++) {
        used += snprintf(last + used, sizeof last - used, " [%d %d %d %d %d %g %d %d %g %d %d]", ta[g], tb[g], m[g],
                         n[g], k[g], ((const float *) alpha)[g], lda[g], ldb[g], ((const float *) beta)[g], ldc[g],
                         size[g]);
    }
    return next_status;
}
