package dev.safeload.cache;

import java.util.Locale;

/**
 * The hub's repository types; the cache folder prefix is the plural ({@code models--org--name}).
 */
public enum RepoType {
    /** A model repository ({@code models--org--name}, no URL prefix). */
    MODEL,
    /** A dataset repository ({@code datasets--org--name}, URLs under {@code datasets/}). */
    DATASET,
    /** A Space ({@code spaces--org--name}, URLs under {@code spaces/}). */
    SPACE;

    /**
     * The lower-case name used in URLs and on the command line: {@code model}, {@code dataset},
     * {@code space}.
     *
     * @return the type's name in lower case
     */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code model}, {@code dataset} or {@code space} (any case; plural accepted).
     *
     * @param text the type as a user wrote it
     * @return the type
     * @throws IllegalArgumentException if {@code text} names no type
     */
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
