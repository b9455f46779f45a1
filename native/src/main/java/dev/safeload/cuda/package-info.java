/**
 * CUDA layer: devices and primary contexts ({@link dev.safeload.cuda.Cuda}, {@link
 * dev.safeload.cuda.CudaContext}), streams and events, single-owner device and pinned host buffers,
 * a leak detector, PTX modules, and cuBLAS through java.lang.foreign ({@link
 * dev.safeload.cuda.Cublas}).
 *
 * <p>Without a GPU everything here loads; {@link dev.safeload.cuda.Cuda#isAvailable()} says {@code
 * false} with a reason and every operation that needs the driver throws one {@link
 * dev.safeload.cuda.CudaException} of kind {@code CUDA_UNAVAILABLE}. The implementation is not API:
 * {@code dev.safeload.cuda.internal.driver} binds the CUDA driver and cuBLAS, {@code
 * dev.safeload.cuda.internal.upload} is the upload pipeline behind {@link
 * dev.safeload.cuda.ModelUploader}.
 */
package dev.safeload.cuda;
