package dev.safeload.cache.internal;

import dev.safeload.cache.DownloadListener;
import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;

import java.io.IOException;
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
 * {@link BlobLock} writes. It survives a dropped connection and a killed process: the next attempt
 * (in this process or a later one) asks for the rest with {@code Range: bytes=N-}, which
 * huggingface_hub ≥ 1.18 no longer does (issue #4196). Its name ends in {@code .incomplete}, so
 * huggingface_hub's scan counts it as an incomplete download and {@code hf cache prune} may remove
 * it, and it differs from the {@code <etag>.incomplete} that clients before 1.18 append to under a
 * flock our lock does not exclude. Without an exclusive lock the bytes go to a private {@code
 * <etag>.<8hex>.incomplete} that is deleted on failure, as huggingface_hub does.
 *
 * <p>Before the rename to {@code blobs/<etag>}: the size must be the announced one, and an etag of
 * 64 hex digits (an LFS file: its etag is the content's sha256) must be the sha256 of the bytes. A
 * mismatch deletes the bytes; one that followed a resume is retried once from zero, since the kept
 * prefix is then the suspect.
 */
public final class BlobFetcher {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int BUFFER = 1 << 20;
    static final String RESUMABLE_SUFFIX = ".safeload.incomplete";

    /**
     * Where the bytes can be fetched: a URL and the endpoint whose origin may receive the token.
     */
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
    public void fetch(
            Path blob,
            String path,
            long size,
            List<Source> sources,
            BlobLock lock,
            DownloadListener listener) {
        String etag = blob.getFileName().toString();
        Path partial =
                lock.exclusive()
                        ? partialFile(blob)
                        : blob.resolveSibling(etag + "." + CacheWriter.randomHex() + ".incomplete");
        try {
            Files.createDirectories(blob.getParent());
            if (!downloadVerified(partial, path, etag, size, sources, listener)) {
                // The kept prefix of an earlier run was the suspect: once more from zero.
                downloadVerified(partial, path, etag, size, sources, listener);
            }
            CacheWriter.moveReplacing(partial, blob);
        } catch (IOException e) {
            deleteQuietly(partial, !lock.exclusive());
            throw new HubException(
                    HubError.Io, "cannot write " + partial + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // A resumable partial is kept for the next attempt unless it was proven corrupt
            // (already deleted).
            deleteQuietly(partial, !lock.exclusive());
            throw e;
        }
    }

    /**
     * Downloads the missing tail into {@code partial} and checks it. Returns {@code false} (bytes
     * deleted) when a download that resumed earlier bytes mismatches; throws on a fresh mismatch.
     */
    private boolean downloadVerified(
            Path partial,
            String path,
            String etag,
            long size,
            List<Source> sources,
            DownloadListener listener)
            throws IOException {
        boolean resumed;
        String problem;
        try (PartialFile out = PartialFile.open(partial, isSha256(etag), size)) {
            resumed = out.size() > 0;
            listener.fileStarted(path, size, out.size());
            download(out, path, size, sources, listener);
            problem = out.problem(etag, size);
        }
        if (problem == null) {
            return true;
        }
        Files.deleteIfExists(partial);
        if (resumed) {
            return false;
        }
        throw new HubException(
                HubError.Corrupted,
                "the download of "
                        + path
                        + " is corrupt: "
                        + problem
                        + ". It was deleted and nothing entered the cache; retry, and if it fails"
                        + " again the endpoint serves wrong bytes.");
    }

    private void download(
            PartialFile out,
            String path,
            long size,
            List<Source> sources,
            DownloadListener listener)
            throws IOException {
        int attempt = 0;
        int sourceIndex = 0;
        String lastFailure = null;
        while (out.size() < size) {
            if (attempt > http.settings().maxRetries()) {
                throw new HubException(
                        lastFailure.startsWith("HTTP") ? HubError.ServerError : HubError.Network,
                        String.format(
                                Locale.ROOT,
                                "download of %s failed after %d attempts, %d of %d bytes"
                                        + " kept for a later resume: %s",
                                path,
                                attempt,
                                out.size(),
                                size,
                                lastFailure));
            }
            if (attempt > 0) {
                http.backoff(attempt - 1, 0);
            }
            Source source = sources.get(sourceIndex % sources.size());
            long before = out.size();
            try {
                transfer(source, out, size, path, listener);
                lastFailure = "the body ended after " + out.size() + " of " + size + " bytes";
            } catch (HubHttp.Retryable r) {
                lastFailure = r.getMessage();
                if (r.retryAfterSeconds() > 0) {
                    http.backoff(0, r.retryAfterSeconds());
                }
                sourceIndex++; // connection refused or 5xx: try the next source
            } catch (IOException e) {
                // Bytes are appended in order, so the file holds exactly what arrived: resume from
                // there.
                lastFailure =
                        "connection dropped after " + out.size() + " bytes: " + HubHttp.describe(e);
            }
            attempt =
                    out.size() > before
                            ? 1
                            : attempt + 1; // progress resets the budget, as huggingface_hub does
        }
    }

    /**
     * One GET from the current end of {@code out}. The body goes straight from the HTTP client's
     * buffers into the file and the digest ({@link ToPartialFile}), without a stream in between.
     */
    private void transfer(
            Source source, PartialFile out, long size, String path, DownloadListener listener)
            throws HubHttp.Retryable, IOException {
        long have = out.size();
        ToPartialFile handler = new ToPartialFile(out, have, size, path, listener);
        HttpResponse<Void> response;
        try {
            response = http.download(source.url(), source.endpoint(), have, handler);
        } catch (HubHttp.Retryable r) {
            handler.rethrowFatal();
            throw r;
        } finally {
            handler.close();
        }
        handler.rethrowFatal();
        int status = response.statusCode();
        if (status == 416) {
            // Range not satisfiable (issue #2197): the kept bytes are stale; start over.
            out.truncate();
            throw new HubHttp.Retryable(source.endpoint(), "HTTP 416 for a resume of " + path, 0);
        }
        if (status >= 400) {
            if (HubErrors.retryable(status)) {
                throw new HubHttp.Retryable(
                        source.endpoint(), "HTTP " + status + " from " + response.uri(), 0);
            }
            throw HubErrors.forResponse(status, response.headers(), response.uri(), path);
        }
        if (handler.rangeMismatch != null) {
            out.truncate();
            throw new HubHttp.Retryable(
                    source.endpoint(),
                    "the server answered a resume from "
                            + have
                            + " with other bytes ("
                            + handler.rangeMismatch
                            + ")",
                    0);
        }
    }

    /**
     * Accepts a 200 or 206 body into the partial file (a 200 to a resume restarts the file: the
     * server ignored Range); every other answer's body is discarded for the caller to judge.
     * Failures that must not be retried (too many bytes, a full disk) are kept in {@link #fatal}
     * because {@code HttpClient} wraps whatever a subscriber throws into an {@link IOException}.
     */
    private final class ToPartialFile implements HttpResponse.BodyHandler<Void>, AutoCloseable {
        private final PartialFile out;
        private final long have;
        private final long size;
        private final String path;
        private final DownloadListener listener;
        private final java.util.concurrent.CompletableFuture<Void> done =
                new java.util.concurrent.CompletableFuture<>();
        private final HubHttp.StallGuard guard;
        private volatile java.util.concurrent.Flow.Subscription subscription;
        volatile RuntimeException fatal;
        volatile String rangeMismatch;

        ToPartialFile(
                PartialFile out, long have, long size, String path, DownloadListener listener) {
            this.out = out;
            this.have = have;
            this.size = size;
            this.path = path;
            this.listener = listener;
            this.guard =
                    http.stallGuard(
                            () ->
                                    fail(
                                            new IOException(
                                                    "no data for "
                                                            + http.settings()
                                                                    .downloadTimeout()
                                                                    .toSeconds()
                                                            + " s (HF_HUB_DOWNLOAD_TIMEOUT)")));
        }

        @Override
        public HttpResponse.BodySubscriber<Void> apply(HttpResponse.ResponseInfo info) {
            int status = info.statusCode();
            if (status != 200 && status != 206) {
                return HttpResponse.BodySubscribers.discarding();
            }
            if (status == 206) {
                String range = info.headers().firstValue("Content-Range").orElse("");
                if (contentRangeStart(range) != have) {
                    rangeMismatch = range;
                    return HttpResponse.BodySubscribers.discarding();
                }
            } else if (have > 0) {
                try {
                    out.truncate();
                } catch (IOException e) {
                    fatal =
                            new HubException(
                                    HubError.Io,
                                    "cannot restart the download of "
                                            + path
                                            + ": "
                                            + e.getMessage(),
                                    e);
                    return HttpResponse.BodySubscribers.discarding();
                }
            }
            return new HttpResponse.BodySubscriber<>() {
                @Override
                public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
                    subscription = s;
                    s.request(1);
                }

                @Override
                public void onNext(List<ByteBuffer> buffers) {
                    guard.touch();
                    try {
                        for (ByteBuffer buffer : buffers) {
                            int n = buffer.remaining();
                            if (out.size() + n > size) {
                                out.truncate();
                                throw new HubException(
                                        HubError.Corrupted,
                                        String.format(
                                                Locale.ROOT,
                                                "the server sent more than the %d bytes its"
                                                        + " metadata announced for %s; nothing was"
                                                        + " kept",
                                                size,
                                                path));
                            }
                            out.append(buffer);
                            listener.bytesReceived(path, n);
                        }
                    } catch (HubException e) {
                        fatal = e;
                        fail(e);
                        return;
                    } catch (IOException e) {
                        fatal =
                                new HubException(
                                        HubError.Io,
                                        "cannot write the download of "
                                                + path
                                                + ": "
                                                + e.getMessage(),
                                        e);
                        fail(e);
                        return;
                    }
                    subscription.request(1);
                }

                @Override
                public void onError(Throwable error) {
                    done.completeExceptionally(error);
                }

                @Override
                public void onComplete() {
                    done.complete(null);
                }

                @Override
                public java.util.concurrent.CompletionStage<Void> getBody() {
                    return done;
                }
            };
        }

        private void fail(Throwable error) {
            java.util.concurrent.Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            done.completeExceptionally(error);
        }

        void rethrowFatal() {
            if (fatal != null) {
                throw fatal;
            }
        }

        @Override
        public void close() {
            guard.close();
        }
    }

    private static long contentRangeStart(String range) {
        java.util.regex.Matcher m = Pattern.compile("bytes\\s+(\\d+)-").matcher(range);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * The partial file, appended in order, with the sha256 of its content kept up to date while
     * bytes arrive (so a multi-GB blob is not read twice); a resumed file's prefix is hashed once
     * on opening.
     */
    private static final class PartialFile implements AutoCloseable {
        private final FileChannel channel;
        private final MessageDigest digest;
        private long size;

        private PartialFile(FileChannel channel, MessageDigest digest, long size) {
            this.channel = channel;
            this.digest = digest;
            this.size = size;
        }

        static PartialFile open(Path file, boolean hash, long expectedSize) throws IOException {
            FileChannel channel =
                    FileChannel.open(
                            file,
                            StandardOpenOption.CREATE,
                            StandardOpenOption.READ,
                            StandardOpenOption.WRITE);
            try {
                long kept = channel.size();
                if (kept > expectedSize) {
                    channel.truncate(0);
                    kept = 0;
                }
                MessageDigest digest = hash ? newSha256() : null;
                if (digest != null && kept > 0) {
                    ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
                    for (long position = 0; position < kept; ) {
                        int n = channel.read(buffer, position);
                        if (n < 0) {
                            break;
                        }
                        position += n;
                        buffer.flip();
                        digest.update(buffer);
                        buffer.clear();
                    }
                }
                return new PartialFile(channel, digest, kept);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }

        long size() {
            return size;
        }

        void truncate() throws IOException {
            channel.truncate(0);
            size = 0;
            if (digest != null) {
                digest.reset();
            }
        }

        /**
         * Appends the buffer's remaining bytes; a failed write (disk full) is undone so that file
         * and digest agree.
         */
        void append(ByteBuffer chunk) {
            int start = chunk.position();
            int n = chunk.remaining();
            try {
                while (chunk.hasRemaining()) {
                    channel.write(chunk, size + chunk.position() - start);
                }
            } catch (IOException e) {
                try {
                    channel.truncate(size);
                } catch (IOException ignored) {
                    // the verification will catch a mismatch
                }
                throw new HubException(
                        HubError.Io,
                        "cannot write the download: " + e.getMessage() + " (is the disk full?)",
                        e);
            }
            size += n;
            if (digest != null) {
                digest.update(chunk.position(start));
            }
        }

        /** What is wrong with the bytes, or {@code null}: size always, sha256 for LFS etags. */
        String problem(String etag, long expectedSize) throws IOException {
            long actual = channel.size();
            if (actual != expectedSize || size != expectedSize) {
                return String.format(
                        Locale.ROOT,
                        "its size is %d bytes, the server announced %d",
                        actual,
                        expectedSize);
            }
            if (digest != null) {
                String sha = HexFormat.of().formatHex(digest.digest());
                if (!sha.equals(etag)) {
                    return "its sha256 is " + sha + ", the hub's LFS etag says " + etag;
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
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
