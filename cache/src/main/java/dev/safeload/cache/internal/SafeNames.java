package dev.safeload.cache.internal;

import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Checks every name that becomes part of a cache path. File paths come from users and from servers
 * (tree listings, siblings), revisions become {@code refs/} paths, etags become blob names: all are
 * hostile until they are shown to stay inside their folder. The rules follow huggingface_hub's
 * {@code _validate_relative_filename} under both POSIX and Windows readings (docs/hub.md §1.3),
 * since a cache may be shared with Windows machines.
 */
public final class SafeNames {
    private static final Pattern DRIVE = Pattern.compile("^[A-Za-z]:.*");
    private static final Pattern ETAG = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

    private SafeNames() {}

    /**
     * A repo file path: {@code a/b.bin}, never {@code ..}, absolute, drive, backslash, NUL or empty
     * segments.
     */
    public static String filePath(String path) {
        String problem = relativePathProblem(path);
        if (problem != null) {
            throw new HubException(
                    HubError.UnsafePath,
                    String.format(
                            Locale.ROOT,
                            "refusing file name '%s': %s; a repo file name must be a relative path"
                                    + " inside the snapshot folder",
                            printable(path),
                            problem));
        }
        return path;
    }

    /**
     * A revision: a branch, tag, {@code refs/pr/N} or commit; it becomes a path below {@code
     * refs/}.
     */
    public static String revision(String revision) {
        String problem = relativePathProblem(revision);
        if (problem != null) {
            throw new HubException(
                    HubError.UnsafePath,
                    String.format(
                            Locale.ROOT,
                            "refusing revision '%s': %s",
                            printable(revision),
                            problem));
        }
        return revision;
    }

    /** An etag becomes {@code blobs/<etag>}: a single plain file name. */
    public static String etag(String etag, String url) {
        if (!ETAG.matcher(etag).matches()) {
            throw new HubException(
                    HubError.UnsafePath,
                    String.format(
                            Locale.ROOT,
                            "the server sent the ETag '%s' for %s, which cannot be a blob file"
                                    + " name",
                            printable(etag),
                            url));
        }
        return etag;
    }

    /** Why {@code path} is not a safe relative path, or {@code null} when it is. */
    public static String relativePathProblem(String path) {
        if (path == null || path.isEmpty()) {
            return "it is empty";
        }
        if (path.indexOf('\0') >= 0) {
            return "it contains a NUL character";
        }
        if (path.indexOf('\\') >= 0) {
            return "it contains a backslash";
        }
        if (path.startsWith("/")) {
            return "it is absolute";
        }
        if (DRIVE.matcher(path).matches()) {
            return "it starts with a drive letter";
        }
        for (String segment : path.split("/", -1)) {
            if (segment.equals("..")) {
                return "it contains a '..' segment";
            }
            if (segment.isEmpty() || segment.equals(".")) {
                return "it contains an empty or '.' segment";
            }
        }
        return null;
    }

    /** Shows control characters visibly in messages. */
    static String printable(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder();
        text.codePoints()
                .forEach(
                        c -> {
                            if (c < 0x20 || c == 0x7f) {
                                out.append(String.format(Locale.ROOT, "\\x%02x", c));
                            } else {
                                out.appendCodePoint(c);
                            }
                        });
        return out.toString();
    }
}
