package dev.safeload.loader;

import dev.safeload.cache.HubRepo;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * A model (or adapter) as a user names it, before anything is resolved: a repo on the hub at a
 * revision, a local file or folder, or a location with a URI scheme such as {@code s3://}. {@link
 * ModelLoader#resolve} turns it into a {@link ResolvedModel}.
 */
public sealed interface ModelRef permits ModelRef.Hub, ModelRef.Local, ModelRef.Remote {
    /**
     * A repo on the hub (or a mirror), resolved through the hub cache.
     *
     * @param repo the repo
     * @param revision a branch, tag, {@code refs/pr/N} or commit hash
     */
    record Hub(HubRepo repo, String revision) implements ModelRef {
        /**
         * Checks the parts.
         *
         * @param repo the repo
         * @param revision a branch, tag, {@code refs/pr/N} or commit hash
         */
        public Hub {
            Objects.requireNonNull(repo, "repo");
            Objects.requireNonNull(revision, "revision");
        }

        @Override
        public String display() {
            return repo.id();
        }
    }

    /**
     * A {@code .safetensors} file, a sharded index, or a folder holding either (for adapters: a
     * PEFT folder or a kohya file).
     *
     * @param path the file or folder
     */
    record Local(Path path) implements ModelRef {
        /**
         * Checks the path.
         *
         * @param path the file or folder
         */
        public Local {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public String display() {
            return path.toString();
        }
    }

    /**
     * A location read by a store found on the class path, such as {@code s3://bucket/prefix}
     * (docs/DESIGN.md: the object-store module).
     *
     * @param uri the location
     */
    record Remote(URI uri) implements ModelRef {
        /**
         * Checks the URI.
         *
         * @param uri the location; it must have a scheme
         */
        public Remote {
            Objects.requireNonNull(uri, "uri");
            if (uri.getScheme() == null) {
                throw new IllegalArgumentException("a remote location needs a scheme: " + uri);
            }
        }

        @Override
        public String display() {
            return uri.toString();
        }
    }

    /**
     * How the user named it, for messages and reports: the repo id, the path or the URI.
     *
     * @return the name as given
     */
    String display();

    /**
     * A model repo at {@code main}.
     *
     * @param repoId {@code name} or {@code org/name}
     * @return the reference
     */
    static ModelRef hub(String repoId) {
        return hub(repoId, "main");
    }

    /**
     * A model repo at a revision.
     *
     * @param repoId {@code name} or {@code org/name}
     * @param revision a branch, tag, {@code refs/pr/N} or commit hash
     * @return the reference
     */
    static ModelRef hub(String repoId, String revision) {
        return new Hub(HubRepo.model(repoId), revision);
    }

    /**
     * A local file or folder.
     *
     * @param path the file or folder
     * @return the reference
     */
    static ModelRef local(Path path) {
        return new Local(path);
    }

    /**
     * Reads what a user typed, as {@code from_pretrained} does: a URI with a scheme ({@code
     * s3://...}; {@code file:} gives a local path) is a remote location; text naming an existing
     * file or folder, or spelled as a path (absolute, starting with {@code .} or {@code ~}, or
     * ending in {@code .safetensors} or {@code .json}), is local; anything else is a repo id on the
     * hub at {@code revision}.
     *
     * @param text the model as typed
     * @param revision the revision for a repo id
     * @return the reference
     * @throws dev.safeload.cache.HubException {@code UnsafePath} for text that is no path and no
     *     valid repo id
     */
    static ModelRef parse(String text, String revision) {
        Objects.requireNonNull(text, "text");
        int scheme = text.indexOf("://");
        if (scheme > 0 && text.substring(0, scheme).matches("[A-Za-z][A-Za-z0-9+.-]*")) {
            URI uri = URI.create(text);
            return uri.getScheme().equalsIgnoreCase("file")
                    ? new Local(Path.of(uri))
                    : new Remote(uri);
        }
        if (looksLikePath(text)) {
            return new Local(Path.of(expandHome(text)));
        }
        return new Hub(HubRepo.model(text), revision);
    }

    private static boolean looksLikePath(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        if (text.startsWith("/")
                || text.startsWith(".")
                || text.startsWith("~")
                || lower.endsWith(".safetensors")
                || lower.endsWith(".json")
                || text.chars().filter(c -> c == '/').count() > 1) {
            return true;
        }
        try {
            return Files.exists(Path.of(text));
        } catch (InvalidPathException e) {
            return false;
        }
    }

    private static String expandHome(String text) {
        if (text.equals("~") || text.startsWith("~/")) {
            return System.getProperty("user.home") + text.substring(1);
        }
        return text;
    }
}
