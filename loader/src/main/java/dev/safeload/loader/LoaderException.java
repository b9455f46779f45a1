package dev.safeload.loader;

import dev.safeload.SafeloadException;

import java.util.Objects;

/** A request the loader refused; {@link #kind()} says why and the message what to do. */
public class LoaderException extends SafeloadException {
    private static final long serialVersionUID = 1L;
    private final LoaderError kind;

    /**
     * An error of {@code kind}.
     *
     * @param kind what went wrong
     * @param message what is wrong and what to do, one line
     */
    public LoaderException(LoaderError kind, String message) {
        this(kind, message, null);
    }

    /**
     * An error of {@code kind} caused by {@code cause}.
     *
     * @param kind what went wrong
     * @param message what is wrong and what to do, one line
     * @param cause the underlying failure, or null
     */
    public LoaderException(LoaderError kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    @Override
    public LoaderError kind() {
        return kind;
    }
}
