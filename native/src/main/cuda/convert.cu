// Element-wise dtype conversions used by the upload pipeline (dev.safeload.cuda.internal.ConversionKernels).
// Results are bit-identical to PyTorch's `tensor.to(dtype)` for every non-NaN input: round to nearest,
// ties to even, overflow to infinity, subnormals kept. NaN stays NaN: f16 results follow F16C/c10
// (sign | 0x7E00 | top payload bits), bf16 results are c10's canonical 0x7FC0
// (c10/util/BFloat16.h round_to_nearest_even). PyTorch's own NaN bits differ between its scalar,
// vectorized and GPU paths, so no single NaN pattern matches all of them.
//
// Only integer and `cvt` f16 instructions are used, so the PTX targets sm_75 and carries a low
// `.version` (see build-ptx.sh and docs/lora.md §6). Regenerate the PTX with
// native/build-ptx.sh after editing this file.
#include <cuda_fp16.h>

typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

__host__ __device__ static inline u32 float_bits(float x) {
    union { float f; u32 u; } v;
    v.f = x;
    return v.u;
}

__host__ __device__ static inline float bits_float(u32 x) {
    union { float f; u32 u; } v;
    v.u = x;
    return v.f;
}

__host__ __device__ static inline bool is_nan_bits(u32 bits) {
    return (bits & 0x7FFFFFFFu) > 0x7F800000u;
}

// f32 -> f16, round to nearest even (__float2half_rn); NaN -> quiet NaN with sign and top payload bits.
__host__ __device__ static inline u16 f32_to_f16_bits(float x) {
    u32 bits = float_bits(x);
    if (is_nan_bits(bits)) {
        return (u16) (((bits >> 16) & 0x8000u) | 0x7E00u | ((bits >> 13) & 0x3FFu));
    }
    return __half_as_ushort(__float2half_rn(x));
}

// f32 -> bf16, round to nearest even exactly as c10::detail::round_to_nearest_even.
__host__ __device__ static inline u16 f32_to_bf16_bits(float x) {
    u32 bits = float_bits(x);
    if (is_nan_bits(bits)) {
        return (u16) 0x7FC0u;
    }
    u32 rounding_bias = ((bits >> 16) & 1u) + 0x7FFFu;
    return (u16) ((bits + rounding_bias) >> 16);
}

// bf16 -> f32 is exact: the bf16 bits are the f32's upper half.
__host__ __device__ static inline float bf16_bits_to_f32(u16 x) {
    return bits_float(((u32) x) << 16);
}

// f16 -> f32 is exact.
__host__ __device__ static inline float f16_bits_to_f32(u16 x) {
    return __half2float(__ushort_as_half(x));
}

#define GRID_STRIDE_LOOP(i, n) \
    for (u64 i = (u64) blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (u64) gridDim.x * blockDim.x)

extern "C" __global__ void safeload_f32_to_f16(const float *__restrict__ src, u16 *__restrict__ dst, u64 n) {
    GRID_STRIDE_LOOP(i, n) { dst[i] = f32_to_f16_bits(src[i]); }
}

extern "C" __global__ void safeload_f32_to_bf16(const float *__restrict__ src, u16 *__restrict__ dst, u64 n) {
    GRID_STRIDE_LOOP(i, n) { dst[i] = f32_to_bf16_bits(src[i]); }
}

extern "C" __global__ void safeload_bf16_to_f16(const u16 *__restrict__ src, u16 *__restrict__ dst, u64 n) {
    GRID_STRIDE_LOOP(i, n) { dst[i] = f32_to_f16_bits(bf16_bits_to_f32(src[i])); }
}

extern "C" __global__ void safeload_f16_to_bf16(const u16 *__restrict__ src, u16 *__restrict__ dst, u64 n) {
    GRID_STRIDE_LOOP(i, n) { dst[i] = f32_to_bf16_bits(f16_bits_to_f32(src[i])); }
}
