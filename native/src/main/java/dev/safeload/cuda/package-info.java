/** CUDA layer: devices, streams, device and pinned buffers, upload pipeline, cuBLAS, PTX kernels. */
package dev.safeload.cuda;
