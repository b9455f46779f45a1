package dev.safeload.cache.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The two content hashes the hub names blobs by (docs/hub.md §1.2 and §5.6): the LFS sha256 (64
 * hex) for large files, and the git blob sha1 (40 hex) of {@code "blob <len>\0" + bytes} for
 * regular files.
 */
public final class BlobHashes {
    /** An LFS blob name: sha256 of the content. */
    public static final Pattern SHA256_NAME = Pattern.compile("[0-9a-f]{64}");

    /** A git blob name: sha1 of {@code "blob <len>\0"} followed by the content. */
    public static final Pattern GIT_SHA1_NAME = Pattern.compile("[0-9a-f]{40}");

    private static final int BUFFER = 1 << 20;

    private BlobHashes() {}

    /** Which hash a blob file name claims, or {@code null} when the name is neither. */
    public static Algorithm algorithmFor(String blobName) {
        if (SHA256_NAME.matcher(blobName).matches()) {
            return Algorithm.SHA256;
        }
        if (GIT_SHA1_NAME.matcher(blobName).matches()) {
            return Algorithm.GIT_SHA1;
        }
        return null;
    }

    /** The hash families a blob can be named by. */
    public enum Algorithm {
        SHA256,
        GIT_SHA1
    }

    /** Hashes {@code file} with {@code algorithm}, reading it once, and returns lower-case hex. */
    public static String hash(Path file, Algorithm algorithm) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            MessageDigest digest = start(algorithm, size);
            ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
            long read = 0;
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                read += buffer.remaining();
                digest.update(buffer);
                buffer.clear();
            }
            if (read != size) {
                // The file changed length while we read it; the caller reports it as a mismatch.
                return "size-changed-during-read";
            }
            return HexFormat.of().formatHex(digest.digest());
        }
    }

    /**
     * Hashes the bytes of {@code in} (exactly {@code size} of them expected) with {@code
     * algorithm}.
     */
    public static String hash(InputStream in, long size, Algorithm algorithm) throws IOException {
        MessageDigest digest = start(algorithm, size);
        byte[] buffer = new byte[BUFFER];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            digest.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The git blob sha1 of {@code bytes}. */
    public static String gitSha1(byte[] bytes) {
        MessageDigest digest = start(Algorithm.GIT_SHA1, bytes.length);
        digest.update(bytes);
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * The git LFS pointer text that git stores in place of an LFS file ({@code version
     * https://git-lfs.github.com/spec/v1\noid sha256:<sha>\nsize <n>\n}); the hub's tree API
     * reports its git sha1 as the file's {@code oid} and its length as {@code pointerSize}
     * (docs/hub.md §7.4).
     */
    public static byte[] lfsPointer(String sha256, long size) {
        String text =
                "version https://git-lfs.github.com/spec/v1\noid sha256:"
                        + sha256
                        + "\nsize "
                        + size
                        + "\n";
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static MessageDigest start(Algorithm algorithm, long size) {
        try {
            return switch (algorithm) {
                case SHA256 -> MessageDigest.getInstance("SHA-256");
                case GIT_SHA1 -> {
                    MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
                    sha1.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
                    yield sha1;
                }
            };
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks a mandatory digest", e);
        }
    }
}
