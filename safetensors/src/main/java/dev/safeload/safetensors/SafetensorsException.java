package dev.safeload.safetensors;

import dev.safeload.SafeloadException;

/** A safetensors file or operation was refused; {@link #kind()} says which rule was broken. */
public class SafetensorsException extends SafeloadException {
    private static final long serialVersionUID = 1L;
    private final SafetensorsError kind;

    public SafetensorsException(SafetensorsError kind, String message) {
        this(kind, message, null);
    }

    public SafetensorsException(SafetensorsError kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = java.util.Objects.requireNonNull(kind, "kind");
    }

    @Override
    public SafetensorsError kind() {
        return kind;
    }
}
