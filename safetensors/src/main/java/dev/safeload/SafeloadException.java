package dev.safeload;

import java.util.Objects;

/**
 * Root of safeload's one unchecked exception hierarchy. Every failure the library reports carries a
 * {@link ErrorKind} and a message that says what is wrong and, where there is one, what to do.
 *
 * <p>Each module adds one subclass (safetensors format errors, hub errors, CUDA errors, LoRA
 * errors); I/O failures are wrapped in the module's exception with an I/O kind, so callers need
 * catch only this type.
 */
public abstract class SafeloadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    protected SafeloadException(String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
    }

    /** What went wrong, as a stable machine-readable kind. */
    public abstract ErrorKind kind();
}
