package dev.safeload.cache.internal;

import dev.safeload.cache.DownloadListener;
import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Downloads one blob into {@code blobs/} so that only complete, verified bytes ever carry the
 * blob's name.
 *
 * <p>Bytes go to {@code blobs/<etag>.safeload.incomplete}, which only the holder of the blob's
 * {@link BlobLock} writes. It survives a dropped connection and a killed process: the next
 * attempt (in this process or a later one) asks for the rest with {@code Range: bytes=N-}, which
 * huggingface_hub ≥ 1.18 no longer does (issue #4196). Its name ends in {@code .incomplete}, so
 * huggingface_hub's scan counts it as an incomplete download and {@code hf cache prune} may remove
 * it, and it differs from the {@code <etag>.incomplete} that clients before 1.18 append to under
 * a flock our lock does not exclude. Without an exclusive lock the bytes go to a private
 * {@code <etag>.<8hex>.incomplete} that is deleted on failure, as huggingface_hub does.
 *
 * <p>Before the rename to {@code blobs/<etag>}: the size must be the announced one, and an etag of
 * 64 hex digits (an LFS file: its etag is the content's sha256) must be the sha256 of the bytes.
 * A mismatch deletes the bytes; one that followed a resume is retried once from zero, since the
 * kept prefix is then the suspect.
 */
public final class BlobFetcher {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int BUFFER = 1 << 20;
    static final String RESUMABLE_SUFFIX = ".safeload.incomplete";

    /** Where the bytes can be fetched: a URL and the endpoint whose origin may receive the token. */
    public record Source(URI url, URI endpoint) {}

    private final HubHttp http;

    public BlobFetcher(HubHttp http) {
        this.http = http;
    }

    /** The resumable partial file of {@code blob}. */
    public static Path partialFile(Path blob) {
        return blob.resolveSibling(blob.getFileName() + RESUMABLE_SUFFIX);
    }

    public static boolean isSha256(String etag) {
        return SHA256.matcher(etag).matches();
    }

    /**
     * Fetches the blob into {@code blob}; the caller holds {@code lock}. Sources are tried in turn
     * on failures; a dropped connection resumes from the bytes already written.
     */
    public void fetch(Path blob, String path, long size, List<Source> sources, BlobLock lock, DownloadListener listener) {
        String etag = blob.getFileName().toString();
        Path partial = lock.exclusive() ? partialFile(blob)
                : blob.resolveSibling(etag + "." + CacheWriter.randomHex() + ".incomplete");
        try {
            Files.createDirectories(blob.getParent());
            boolean resumed = download(partial, path, etag, size, sources, listener);
            if (!verified(partial, path, etag, size, resumed)) {
                download(partial, path, etag, size, sources, listener);
                if (!verified(partial, path, etag, size, false)) {
                    throw new IllegalStateException("unreachable: verified() throws on a fresh mismatch");
                }
            }
            CacheWriter.moveReplacing(partial, blob);
        } catch (IOException e) {
            deleteQuietly(partial, !lock.exclusive());
            throw new HubException(HubError.Io, "cannot write " + partial + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // A resumable partial is kept for the next attempt unless it was proven corrupt (already deleted).
            deleteQuietly(partial, !lock.exclusive());
            throw e;
        }
    }

    /** Downloads the missing tail into {@code partial}; returns whether earlier bytes were kept. */
    private boolean download(Path partial, String path, String etag, long size, List<Source> sources,
            DownloadListener listener) throws IOException {
        try (FileChannel out = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            long have = out.size();
            if (have > size) {
                out.truncate(0);
                have = 0;
            }
            boolean resumed = have > 0;
            listener.fileStarted(path, size, have);
            int attempt = 0;
            int sourceIndex = 0;
            String lastFailure = null;
            while (have < size) {
                if (attempt > http.settings().maxRetries()) {
                    throw new HubException(lastFailure.startsWith("HTTP") ? HubError.ServerError : HubError.Network,
                            String.format(Locale.ROOT, "download of %s failed after %d attempts, %d of %d bytes"
                                    + " kept for a later resume: %s", path, attempt, have, size, lastFailure));
                }
                if (attempt > 0) {
                    http.backoff(attempt - 1, 0);
                }
                Source source = sources.get(sourceIndex % sources.size());
                long before = have;
                try {
                    have = transfer(source, out, have, size, path, listener);
                    lastFailure = "the body ended after " + have + " of " + size + " bytes";
                } catch (HubHttp.Retryable r) {
                    have = out.size();
                    lastFailure = r.getMessage();
                    if (r.retryAfterSeconds() > 0) {
                        http.backoff(0, r.retryAfterSeconds());
                    }
                    sourceIndex++; // connection refused or 5xx: try the next source
                } catch (IOException e) {
                    have = out.size(); // bytes are written in order, so the file length is what arrived
                    lastFailure = "connection dropped after " + have + " bytes: " + HubHttp.describe(e);
                }
                attempt = have > before ? 1 : attempt + 1; // progress resets the budget, as huggingface_hub does
            }
            return resumed;
        }
    }

    /**
     * One GET from byte {@code have}; returns the new count. Mid-stream failures throw
     * {@link IOException} after what arrived is written (the caller resumes from there).
     */
    private long transfer(Source source, FileChannel out, long have, long size, String path,
            DownloadListener listener) throws HubHttp.Retryable, IOException {
        HttpResponse<InputStream> response = http.download(source.url(), source.endpoint(), have);
        try (InputStream in = response.body()) {
            int status = response.statusCode();
            if (status == 416) {
                // Range not satisfiable (issue #2197): the kept bytes are stale; start over.
                out.truncate(0);
                throw new HubHttp.Retryable(source.endpoint(), "HTTP 416 for a resume of " + path, 0);
            }
            if (status >= 400) {
                if (HubErrors.retryable(status)) {
                    throw new HubHttp.Retryable(source.endpoint(), "HTTP " + status + " from " + response.uri(), 0);
                }
                throw HubErrors.forResponse(status, response.headers(), response.uri(), path);
            }
            long position = have;
            if (have > 0 && status != 206) {
                position = 0; // the server ignored Range: take the whole body again
                out.truncate(0);
            } else if (status == 206) {
                long start = contentRangeStart(response);
                if (start != have) {
                    out.truncate(0);
                    throw new HubHttp.Retryable(source.endpoint(),
                            "the server answered a resume from " + have + " with bytes from " + start, 0);
                }
            }
            byte[] buffer = new byte[BUFFER];
            while (true) {
                int n = in.read(buffer);
                if (n < 0) {
                    return position;
                }
                if (position + n > size) {
                    out.truncate(0);
                    throw new HubException(HubError.Corrupted, String.format(Locale.ROOT,
                            "%s sent more than the %d bytes its metadata announced for %s; nothing was kept",
                            response.uri(), size, path));
                }
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                while (chunk.hasRemaining()) {
                    position += out.write(chunk, position);
                }
                listener.bytesReceived(path, n);
            }
        }
    }

    private static long contentRangeStart(HttpResponse<?> response) {
        String range = response.headers().firstValue("Content-Range").orElse("");
        java.util.regex.Matcher m = Pattern.compile("bytes\\s+(\\d+)-").matcher(range);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * Checks size and, for LFS etags, sha256. Returns {@code false} (bytes deleted) when a resumed
     * download mismatches, so that the caller downloads once more from zero; throws otherwise.
     */
    private static boolean verified(Path partial, String path, String etag, long size, boolean resumed)
            throws IOException {
        long actual = Files.size(partial);
        String problem = null;
        if (actual != size) {
            problem = String.format(Locale.ROOT, "its size is %d bytes, the server announced %d", actual, size);
        } else if (isSha256(etag)) {
            String digest = sha256(partial);
            if (!digest.equals(etag)) {
                problem = "its sha256 is " + digest + ", the hub's LFS etag says " + etag;
            }
        }
        if (problem == null) {
            return true;
        }
        Files.deleteIfExists(partial);
        if (resumed) {
            return false;
        }
        throw new HubException(HubError.Corrupted, "the download of " + path + " is corrupt: " + problem
                + ". It was deleted and nothing entered the cache; retry, and if it fails again the"
                + " endpoint serves wrong bytes.");
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
            while (in.read(buffer) >= 0) {
                buffer.flip();
                digest.update(buffer);
                buffer.clear();
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static void deleteQuietly(Path partial, boolean privateFile) {
        if (privateFile) {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // an orphan .incomplete file; scan reports it and prune removes it
            }
        }
    }
}
