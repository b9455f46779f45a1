package dev.safeload.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Hand-built safetensors bytes for tests, including malformed ones: the length prefix is written as
 * given, so it may lie about the header.
 */
public final class RawFiles {
    private RawFiles() {}

    /** {@code N} (little-endian u64) followed by {@code rest}. */
    public static byte[] withLength(long n, byte[] rest) {
        ByteBuffer b = ByteBuffer.allocate(8 + rest.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(n).put(rest);
        return b.array();
    }

    /** A file whose header is {@code json} (N = its UTF-8 length) followed by {@code data}. */
    public static byte[] of(String json, byte[] data) {
        return of(json.getBytes(StandardCharsets.UTF_8), data);
    }

    /** A file whose header is the raw {@code header} bytes followed by {@code data}. */
    public static byte[] of(byte[] header, byte[] data) {
        return withLength(header.length, concat(header, data));
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Little-endian float32 bytes. */
    public static byte[] f32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    /** Writes {@code bytes} to {@code dir/name} and returns the path. */
    public static Path write(Path dir, String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
