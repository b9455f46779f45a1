package dev.safeload.loader;

import dev.safeload.safetensors.DType;

/**
 * One tensor of a {@link LoadedModel}, in the model's memory: a {@link HostTensor} on the CPU, a
 * {@link CudaTensor} on a CUDA device. The memory belongs to the model: it is valid while the model
 * is open, holds what the model's adapters made of it, and is freed when the model closes.
 *
 * {@snippet :
 * switch (model.tensor("lm_head.weight")) {
 *     case HostTensor h -> use(h.segment());
 *     case CudaTensor c -> launch(c.pointer());
 * }
 * }
 */
public sealed interface LoadedTensor permits HostTensor, CudaTensor {
    /**
     * The tensor's name.
     *
     * @return the name in the model's files
     */
    String name();

    /**
     * The element type in the model's memory.
     *
     * @return the dtype
     */
    DType dtype();

    /**
     * The shape, row-major.
     *
     * @return a copy of the dimensions
     */
    long[] shape();

    /**
     * The size in bytes.
     *
     * @return the byte count
     */
    long byteSize();
}
