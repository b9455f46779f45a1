package dev.safeload.cache.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/**
 * Builds hub caches in huggingface_hub's exact layout (docs/hub.md §1.2-1.4) for tests: {@code
 * blobs/<etag>} named by git sha1 or, for LFS files, sha256; {@code snapshots/<commit>/<path>} as
 * relative symlinks; {@code refs/<name>} holding the commit with no newline.
 *
 * {@snippet :
 * CacheFixture cache = new CacheFixture(tempDir);
 * String commit = cache.repo("model", "org/bert-base").commit(1)
 *         .file("config.json", "{}".getBytes()).lfs("model.safetensors", bytes).ref("main").commit();
 * }
 */
public final class CacheFixture {
    private final Path root;

    public CacheFixture(Path root) {
        this.root = root;
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path root() {
        return root;
    }

    public Repo repo(String type, String repoId) {
        return new Repo(root.resolve(type + "s--" + repoId.replace("/", "--")));
    }

    /** One repository folder. */
    public static final class Repo {
        private final Path dir;

        Repo(Path dir) {
            this.dir = dir;
        }

        public Path dir() {
            return dir;
        }

        /** A revision whose commit hash is derived from {@code seed} (40 lower-case hex). */
        public Revision commit(int seed) {
            return commit(
                    sha1(
                            ("commit " + dir.getFileName() + " " + seed)
                                    .getBytes(StandardCharsets.UTF_8)));
        }

        public Revision commit(String commit) {
            try {
                Files.createDirectories(dir.resolve("snapshots").resolve(commit));
                Files.createDirectories(dir.resolve("blobs"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Revision(this, commit);
        }

        public Path blob(String etag) {
            return dir.resolve("blobs").resolve(etag);
        }
    }

    /** One snapshot of a repository. */
    public static final class Revision {
        private final Repo repo;
        private final String commit;

        Revision(Repo repo, String commit) {
            this.repo = repo;
            this.commit = commit;
        }

        public String commit() {
            return commit;
        }

        public Path snapshot() {
            return repo.dir.resolve("snapshots").resolve(commit);
        }

        /** A regular (git) file: the blob is named by its git blob sha1. */
        public Revision file(String path, byte[] content) {
            return put(path, content, gitSha1(content));
        }

        /** An LFS file: the blob is named by its sha256. */
        public Revision lfs(String path, byte[] content) {
            return put(path, content, sha256(content));
        }

        /** {@code refs/<name>} = commit, no trailing newline. */
        public Revision ref(String name) {
            try {
                Path ref = repo.dir.resolve("refs").resolve(name);
                Files.createDirectories(ref.getParent());
                Files.writeString(ref, commit);
                return this;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private Revision put(String path, byte[] content, String etag) {
            try {
                Path blob = repo.blob(etag);
                if (!Files.exists(blob)) {
                    Files.write(blob, content);
                }
                Path link = snapshot().resolve(path);
                Files.createDirectories(link.getParent());
                Files.deleteIfExists(link);
                Files.createSymbolicLink(link, link.getParent().relativize(blob));
                return this;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Deterministic pseudo-random bytes. */
    public static byte[] bytes(int size, long seed) {
        byte[] out = new byte[size];
        new Random(seed).nextBytes(out);
        return out;
    }

    public static String sha256(byte[] content) {
        return hex("SHA-256", new byte[0], content);
    }

    /** git's blob id: sha1 of {@code "blob <len>\0"} then the bytes (docs/hub.md §5.6). */
    public static String gitSha1(byte[] content) {
        return hex(
                "SHA-1",
                ("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII),
                content);
    }

    static String sha1(byte[] content) {
        return hex("SHA-1", new byte[0], content);
    }

    private static String hex(String algorithm, byte[] prefix, byte[] content) {
        try {
            MessageDigest digest = MessageDigest.getInstance(algorithm);
            digest.update(prefix);
            digest.update(content);
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
