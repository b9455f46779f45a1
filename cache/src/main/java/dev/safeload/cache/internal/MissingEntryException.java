package dev.safeload.cache.internal;

import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;

/**
 * The hub answered {@code EntryNotFound}; {@link #commit()} is its {@code X-Repo-Commit}, when
 * sent, so that the resolver can write the {@code .no_exist} marker as huggingface_hub does
 * (docs/hub.md §1.5).
 */
public final class MissingEntryException extends HubException {
    private static final long serialVersionUID = 1L;
    private final String commit;

    public MissingEntryException(HubException cause, String commit) {
        super(HubError.EntryNotFound, cause.getMessage(), null);
        this.commit = commit;
    }

    /** The commit the file is missing from, or {@code null} when the server did not say. */
    public String commit() {
        return commit;
    }
}
