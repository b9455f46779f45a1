package dev.safeload.cache;

import dev.safeload.SafeloadException;

/** A hub request or cache operation failed; {@link #kind()} says how. */
public class HubException extends SafeloadException {
    private static final long serialVersionUID = 1L;
    private final HubError kind;

    public HubException(HubError kind, String message) {
        this(kind, message, null);
    }

    public HubException(HubError kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = java.util.Objects.requireNonNull(kind, "kind");
    }

    @Override
    public HubError kind() {
        return kind;
    }
}
