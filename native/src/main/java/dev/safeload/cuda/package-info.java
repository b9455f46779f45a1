/**
 * CUDA layer: devices and primary contexts ({@link dev.safeload.cuda.Cuda}, {@link
 * dev.safeload.cuda.CudaContext}), streams and events, single-owner device and pinned host buffers,
 * a leak detector, PTX modules, and cuBLAS through java.lang.foreign ({@link
 * dev.safeload.cuda.Cublas}).
 *
 * <p>Without a GPU everything here loads; {@link dev.safeload.cuda.Cuda#isAvailable()} says {@code
 * false} with a reason and every operation that needs the driver throws one {@link
 * dev.safeload.cuda.CudaException} of kind {@code CUDA_UNAVAILABLE}. Implementation lives in {@code
 * dev.safeload.cuda.internal}, which is not API.
 */
package dev.safeload.cuda;
