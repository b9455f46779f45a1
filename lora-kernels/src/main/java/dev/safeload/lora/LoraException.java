package dev.safeload.lora;

import dev.safeload.SafeloadException;

import java.util.Locale;
import java.util.Objects;

/** A LoRA adapter or operation was refused; {@link #kind()} says why. */
public class LoraException extends SafeloadException {
    private static final long serialVersionUID = 1L;
    private final LoraError kind;

    public LoraException(LoraError kind, String message) {
        this(kind, message, null);
    }

    public LoraException(LoraError kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    /**
     * Builds the message with {@link String#format(Locale, String, Object...)} in {@link
     * Locale#ROOT}.
     */
    public static LoraException of(LoraError kind, String format, Object... args) {
        return new LoraException(kind, String.format(Locale.ROOT, format, args));
    }

    @Override
    public LoraError kind() {
        return kind;
    }
}
