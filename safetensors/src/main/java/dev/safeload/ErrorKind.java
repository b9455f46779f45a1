package dev.safeload;

/**
 * A machine-readable name for what went wrong. Each module has one enum of kinds that implements
 * this interface, so a caller (or the CLI, which prints {@code KIND: message}) can branch on {@link
 * #name()} without knowing every module.
 */
public interface ErrorKind {
    /** The kind's stable name, for example {@code HeaderTooSmall} or {@code RepoNotFound}. */
    String name();
}
