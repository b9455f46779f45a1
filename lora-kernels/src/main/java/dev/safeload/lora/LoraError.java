package dev.safeload.lora;

import dev.safeload.ErrorKind;

/** Why an adapter was refused or a LoRA operation failed. */
public enum LoraError implements ErrorKind {
    /**
     * A format we recognise but do not implement (LoHa, LoKr, IA3, OFT, ...); the message names it.
     */
    UnsupportedFormat,
    /** An adapter whose files or keys do not form a LoRA adapter we can read. */
    InvalidAdapter,
    /** adapter_config.json is malformed or contradicts the tensors (rank, targets). */
    InvalidConfig,
    /** An adapter module has no counterpart in the base model. */
    MissingModule,
    /** An adapter tensor's shape does not fit the base weight it targets. */
    ShapeMismatch,
    /** A tensor has a dtype the operation cannot use (integer weights, fp8, ...). */
    WrongDtype,
    /**
     * A valid request this runtime cannot carry out (for example unmerging DoRA without a kept
     * copy).
     */
    Unsupported,
    /** An adapter id not loaded in the pool, or a pool too small for the adapter. */
    AdapterNotLoaded,
    /** The requested backend is not available on this machine (no CUDA device, no cuBLAS). */
    BackendUnavailable,
    /** A backend call failed (a CUDA or cuBLAS status, an interrupted worker). */
    BackendFailure,
    /** An I/O failure reading an adapter or writing a merged model. */
    Io,
}
