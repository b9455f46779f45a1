package dev.safeload.cache;

import java.util.Locale;

/**
 * The hub's repository types; the cache folder prefix is the plural ({@code models--org--name}).
 */
public enum RepoType {
    MODEL,
    DATASET,
    SPACE;

    /**
     * The lower-case name used in URLs and on the command line: {@code model}, {@code dataset},
     * {@code space}.
     */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code model}, {@code dataset} or {@code space} (any case; plural accepted). */
    public static RepoType parse(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        for (RepoType type : values()) {
            if (t.equals(type.id()) || t.equals(type.id() + "s")) {
                return type;
            }
        }
        throw new IllegalArgumentException(
                "unknown repo type '" + text + "': expected model, dataset or space");
    }
}
