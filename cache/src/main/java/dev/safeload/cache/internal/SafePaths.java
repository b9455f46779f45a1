package dev.safeload.cache.internal;

import java.util.List;
import java.util.Optional;

/**
 * Checks names that come from a request before they touch the file system: a repo file path or a
 * revision must be relative, made of non-empty segments other than {@code .} and {@code ..}, with
 * no backslash, NUL or control character (huggingface_hub's {@code _validate_relative_filename},
 * reference/hub.md 1.3), so it cannot leave the snapshot or refs folder.
 */
public final class SafePaths {
    private SafePaths() {}

    /** {@code segments} joined with {@code /}, or empty when any segment is unsafe. */
    public static Optional<String> join(List<String> segments) {
        if (segments.isEmpty()) {
            return Optional.empty();
        }
        for (String segment : segments) {
            if (!safeSegment(segment)) {
                return Optional.empty();
            }
        }
        return Optional.of(String.join("/", segments));
    }

    public static boolean safeSegment(String segment) {
        if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
            return false;
        }
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** A repo id part (org or name): the hub allows letters, digits, {@code -}, {@code _}, {@code .}, no {@code --}. */
    public static boolean repoIdPart(String part) {
        return part.matches("[A-Za-z0-9][A-Za-z0-9._-]*") && !part.contains("--") && !part.contains("..");
    }
}
