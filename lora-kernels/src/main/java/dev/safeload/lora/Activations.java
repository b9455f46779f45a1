package dev.safeload.lora;

/**
 * A row-major {@code rows × cols} activation matrix (tokens × features) handed to {@link
 * AdapterPool#apply}: host memory for the CPU backend, device memory for CUDA.
 */
public interface Activations {
    Precision precision();

    int rows();

    int cols();
}
