package dev.safeload.cache;

import dev.safeload.SafeloadException;

/**
 * A hub request or cache operation failed; {@link #kind()} says how, and the message names the
 * repository, file or path concerned and what to do (docs/DESIGN.md "Errors"). Unchecked, as every
 * {@link SafeloadException}.
 */
public class HubException extends SafeloadException {
    private static final long serialVersionUID = 1L;

    /** What went wrong; serialized with the exception. */
    private final HubError kind;

    /**
     * An error without an underlying cause.
     *
     * @param kind what went wrong
     * @param message one line saying what is wrong and what to do; never a secret
     */
    public HubException(HubError kind, String message) {
        this(kind, message, null);
    }

    /**
     * An error caused by another exception (an I/O failure, an interrupted wait).
     *
     * @param kind what went wrong
     * @param message one line saying what is wrong and what to do; never a secret
     * @param cause the underlying exception, or null
     */
    public HubException(HubError kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = java.util.Objects.requireNonNull(kind, "kind");
    }

    /**
     * What went wrong.
     *
     * @return the kind, never null
     */
    @Override
    public HubError kind() {
        return kind;
    }
}
