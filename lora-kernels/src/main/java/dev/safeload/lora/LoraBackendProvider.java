package dev.safeload.lora;

/**
 * A {@link java.util.ServiceLoader} entry for a backend, so that a CUDA backend on the class path
 * is found without the caller naming its class.
 */
public interface LoraBackendProvider {
    /** {@code cpu}, {@code cuda}, ... */
    String name();

    /** Whether {@link #open()} can work on this machine (a device, the libraries); never throws. */
    boolean available();

    /** A new backend; throws {@link LoraError#BackendUnavailable} when it cannot work here. */
    LoraBackend open();
}
