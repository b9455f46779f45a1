package dev.safeload.cache.internal;

import dev.safeload.cache.DownloadListener;
import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;
import dev.safeload.cache.HubSettings;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
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
        try (PartialFile out =
                PartialFile.open(partial, isSha256(etag), size, http.transferThreads())) {
            resumed = out.frontier() > 0;
            listener.fileStarted(path, size, out.frontier());
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
        while (out.frontier() < size) {
            if (attempt > http.settings().maxRetries()) {
                out.keepPrefix();
                throw new HubException(
                        lastFailure.startsWith("HTTP") ? HubError.ServerError : HubError.Network,
                        String.format(
                                Locale.ROOT,
                                "download of %s failed after %d attempts, %d of %d bytes"
                                        + " kept for a later resume: %s",
                                path,
                                attempt,
                                out.frontier(),
                                size,
                                lastFailure));
            }
            if (attempt > 0) {
                http.backoff(attempt - 1, 0);
            }
            Source source = sources.get(sourceIndex % sources.size());
            long before = out.writtenBytes();
            try {
                if (ranged(source, out, size)) {
                    new RangedRound(source, out, size, path, listener).run();
                } else {
                    transfer(source, out, out.frontier(), size, size, true, path, listener);
                }
                lastFailure =
                        "the body ended after " + out.writtenBytes() + " of " + size + " bytes";
            } catch (HubHttp.Retryable r) {
                lastFailure = r.getMessage();
                if (r.retryAfterSeconds() > 0) {
                    http.backoff(0, r.retryAfterSeconds());
                }
                sourceIndex++; // connection refused or 5xx: try the next source
            } catch (IOException e) {
                // Bytes are written where they belong, so the file keeps what arrived: resume
                // from there.
                lastFailure =
                        "connection dropped after "
                                + out.writtenBytes()
                                + " bytes: "
                                + HubHttp.describe(e);
            } catch (RuntimeException e) {
                out.keepPrefix();
                throw e;
            }
            // progress resets the budget, as huggingface_hub does
            attempt = out.writtenBytes() > before ? 1 : attempt + 1;
        }
    }

    /** Whether the rest of the file goes over several ranged connections. */
    private boolean ranged(Source source, PartialFile out, long size) {
        HubSettings settings = http.settings();
        return settings.connectionsPerFile() > 1
                && size - out.frontier() >= 2 * settings.rangeChunkBytes()
                && !http.refusesRanges(source.url());
    }

    /**
     * One GET of {@code [from, end)} into {@code out}. With {@code wholeBodyAccepted} (a single
     * connection) a 200 answer is taken as the whole file from byte 0 (the server ignored the
     * range); otherwise it counts as a refusal of ranges, and its body is not read. The body goes
     * straight from the HTTP client's buffers into the file ({@link RangeBody}), without a stream
     * in between.
     *
     * @param end {@code size} for the rest of the file (an open range), less for a bounded one
     */
    private void transfer(
            Source source,
            PartialFile out,
            long from,
            long end,
            long size,
            boolean wholeBodyAccepted,
            String path,
            DownloadListener listener)
            throws HubHttp.Retryable, IOException {
        transfer(
                source,
                new RangeBody(out, from, end, size, false, wholeBodyAccepted, path, listener));
    }

    private void transfer(Source source, RangeBody handler) throws HubHttp.Retryable, IOException {
        HttpResponse<Void> response;
        try {
            response =
                    http.download(
                            source.url(),
                            source.endpoint(),
                            handler.from,
                            handler.bounded ? handler.end : -1,
                            handler);
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
            handler.out.restart();
            throw new HubHttp.Retryable(
                    source.endpoint(), "HTTP 416 for a resume of " + path(handler), 0);
        }
        if (status >= 400) {
            if (HubErrors.retryable(status)) {
                throw new HubHttp.Retryable(
                        source.endpoint(), "HTTP " + status + " from " + response.uri(), 0);
            }
            throw HubErrors.forResponse(status, response.headers(), response.uri(), path(handler));
        }
        if (handler.rangeMismatch != null) {
            if (handler.from > 0 && handler.wholeBodyAccepted) {
                handler.out.restart();
            }
            throw new HubHttp.Retryable(
                    source.endpoint(),
                    "the server answered a request for bytes "
                            + handler.from
                            + "-"
                            + (handler.end - 1)
                            + " with other bytes ("
                            + handler.rangeMismatch
                            + ")",
                    0);
        }
        if (handler.refused) {
            http.recordRangeRefusal(source.url());
        }
        if (handler.refused && !handler.wholeBody) {
            throw new HubHttp.Retryable(
                    source.endpoint(),
                    response.uri() + " ignores Range requests; continuing over one connection",
                    0);
        }
        if (handler.cursor < handler.limit) {
            throw new IOException(
                    "the body ended after "
                            + (handler.cursor - (handler.wholeBody ? 0 : handler.from))
                            + " bytes");
        }
    }

    private static String path(RangeBody handler) {
        return handler.path;
    }

    /**
     * One pass over the file's gaps with up to {@code connectionsPerFile} ranged connections, each
     * taking the next chunk of {@code rangeChunkBytes} when done with one. The first request goes
     * alone until its answer shows whether the server honours ranges (206); a 200 is taken as the
     * whole file over that one connection, and the server is remembered as refusing ranges. A
     * connection that fails gives its unfinished chunk back and stops; the pass ends when no
     * connection is left, and {@link #download} retries what is missing.
     */
    private final class RangedRound {
        private final Source source;
        private final PartialFile out;
        private final long size;
        private final String path;
        private final DownloadListener listener;
        private final java.util.concurrent.ConcurrentLinkedDeque<long[]> chunks =
                new java.util.concurrent.ConcurrentLinkedDeque<>();
        private final java.util.Set<RangeBody> active =
                java.util.concurrent.ConcurrentHashMap.newKeySet();
        private volatile boolean aborted;
        private Exception failure; // guarded by this

        RangedRound(
                Source source, PartialFile out, long size, String path, DownloadListener listener) {
            this.source = source;
            this.out = out;
            this.size = size;
            this.path = path;
            this.listener = listener;
            long chunk = http.settings().rangeChunkBytes();
            for (long[] gap : out.gaps(size)) {
                // On the grid of chunk multiples, so that a resumed file asks for the same chunks
                for (long at = gap[0]; at < gap[1]; ) {
                    long next = Math.min(gap[1], (at / chunk + 1) * chunk);
                    chunks.add(new long[] {at, next});
                    at = next;
                }
            }
        }

        void run() throws HubHttp.Retryable, IOException {
            long[] first = chunks.poll();
            RangeBody probe =
                    new RangeBody(out, first[0], first[1], size, true, true, path, listener);
            java.util.concurrent.Future<?> firstTask =
                    http.transferThreads()
                            .submit(
                                    () -> {
                                        if (fetch(probe, first) && !probe.wholeBody) {
                                            work();
                                        }
                                    });
            List<java.util.concurrent.Future<?>> tasks = new java.util.ArrayList<>();
            tasks.add(firstTask);
            try {
                if (probe.rangesHonoured.get()) {
                    int more = Math.min(http.settings().connectionsPerFile() - 1, chunks.size());
                    for (int i = 0; i < more; i++) {
                        tasks.add(http.transferThreads().submit(this::work));
                    }
                }
                for (java.util.concurrent.Future<?> task : tasks) {
                    task.get();
                }
            } catch (InterruptedException e) {
                abort();
                Thread.currentThread().interrupt();
                throw new HubException(
                        HubError.Network, "interrupted while downloading " + path, e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException(
                        "a download task failed unexpectedly", e.getCause());
            }
            synchronized (this) {
                if (failure instanceof RuntimeException r) {
                    throw r;
                }
                if (failure instanceof HubHttp.Retryable r && out.frontier() < size) {
                    throw r;
                }
                if (failure instanceof IOException e && out.frontier() < size) {
                    throw e;
                }
            }
        }

        /** One connection: chunks until none is left, or until a request fails. */
        private void work() {
            long[] chunk;
            while (!aborted && (chunk = chunks.poll()) != null) {
                if (!fetch(
                        new RangeBody(out, chunk[0], chunk[1], size, true, false, path, listener),
                        chunk)) {
                    return;
                }
            }
        }

        /** Fetches one chunk; on failure gives back what is missing of it and returns false. */
        private boolean fetch(RangeBody body, long[] chunk) {
            active.add(body);
            try {
                transfer(source, body);
                return true;
            } catch (HubHttp.Retryable | IOException e) {
                if (!body.wholeBody && body.cursor < chunk[1]) {
                    chunks.addFirst(new long[] {body.cursor, chunk[1]});
                }
                fail(e, false);
                return false;
            } catch (RuntimeException e) {
                fail(e, true);
                return false;
            } finally {
                active.remove(body);
                body.rangesHonoured.complete(false);
            }
        }

        private synchronized void fail(Exception e, boolean fatal) {
            if (failure == null || fatal) {
                failure = e;
            }
            if (fatal) {
                abort();
            }
        }

        private void abort() {
            aborted = true;
            active.forEach(
                    b -> b.fail(new IOException("another connection of the download failed")));
        }
    }

    /**
     * Writes a 206 body for {@code [from, end)} (or, when {@link #wholeBodyAccepted}, a 200 body as
     * the whole file) into the partial file; every other answer's body is discarded for the caller
     * to judge. Failures that must not be retried (too many bytes, a full disk) are kept in {@link
     * #fatal} because {@code HttpClient} wraps whatever a subscriber throws into an {@link
     * IOException}.
     */
    private final class RangeBody implements HttpResponse.BodyHandler<Void>, AutoCloseable {
        final PartialFile out;
        final long from;
        final long end;
        final long size;
        final boolean bounded;
        final boolean wholeBodyAccepted;
        final String path;
        private final DownloadListener listener;
        private final java.util.concurrent.CompletableFuture<Void> done =
                new java.util.concurrent.CompletableFuture<>();

        /** Completed once the answer's status is known: whether it is the 206 asked for. */
        final java.util.concurrent.CompletableFuture<Boolean> rangesHonoured =
                new java.util.concurrent.CompletableFuture<>();

        private final HubHttp.StallGuard guard;
        private volatile java.util.concurrent.Flow.Subscription subscription;
        private volatile long limit;
        volatile long cursor;
        volatile boolean wholeBody;
        volatile boolean refused;
        volatile RuntimeException fatal;
        volatile String rangeMismatch;

        RangeBody(
                PartialFile out,
                long from,
                long end,
                long size,
                boolean bounded,
                boolean wholeBodyAccepted,
                String path,
                DownloadListener listener) {
            this.out = out;
            this.from = from;
            this.end = end;
            this.size = size;
            this.bounded = bounded;
            this.wholeBodyAccepted = wholeBodyAccepted;
            this.path = path;
            this.listener = listener;
            this.cursor = from;
            this.limit = end;
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
            if (status >= 300 && status < 400) {
                return HttpResponse.BodySubscribers.discarding(); // a redirect hop
            }
            if (status != 200 && status != 206) {
                rangesHonoured.complete(false);
                return HttpResponse.BodySubscribers.discarding();
            }
            if (status == 206) {
                String range = info.headers().firstValue("Content-Range").orElse("");
                long[] span = contentRange(range);
                if (span == null || span[0] != from || span[1] != end - 1) {
                    rangeMismatch = range;
                    rangesHonoured.complete(false);
                    return cancelling();
                }
                rangesHonoured.complete(true);
            } else if (from > 0 || bounded) {
                rangesHonoured.complete(false);
                if (!wholeBodyAccepted) {
                    refused = true;
                    return cancelling();
                }
                // The server ignored Range: this is the whole file, over this one connection.
                refused = bounded;
                try {
                    out.restart();
                } catch (IOException e) {
                    fatal =
                            new HubException(
                                    HubError.Io,
                                    "cannot restart the download of "
                                            + path
                                            + ": "
                                            + e.getMessage(),
                                    e);
                    return cancelling();
                }
                wholeBody = true;
                cursor = 0;
                limit = size;
            } else {
                rangesHonoured.complete(false);
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
                            if (cursor + n > limit) {
                                throw new HubException(
                                        HubError.Corrupted,
                                        String.format(
                                                Locale.ROOT,
                                                "the server sent more than the %d bytes %s for"
                                                        + " %s; nothing was kept",
                                                limit - (wholeBody ? 0 : from),
                                                wholeBody || end == size
                                                        ? "its metadata announced"
                                                        : "of the range asked",
                                                path));
                            }
                            out.write(cursor, buffer);
                            cursor += n;
                            listener.bytesReceived(path, n);
                        }
                    } catch (HubException e) {
                        if (e.kind() == HubError.Corrupted) {
                            try {
                                out.restart();
                            } catch (IOException ignored) {
                                // the verification will catch whatever is left
                            }
                        }
                        fatal = e;
                        fail(e);
                        return;
                    }
                    // Ahead of the digest: more is asked for once it has caught up.
                    if (!out.pauseUntilHashed(cursor, this::more)) {
                        subscription.request(1);
                    }
                }

                private void more() {
                    guard.touch();
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

        /** Reads nothing: the connection is closed rather than a whole unwanted body read. */
        private HttpResponse.BodySubscriber<Void> cancelling() {
            return new HttpResponse.BodySubscriber<>() {
                @Override
                public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
                    s.cancel();
                    done.complete(null);
                }

                @Override
                public void onNext(List<ByteBuffer> item) {}

                @Override
                public void onError(Throwable throwable) {
                    done.complete(null);
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

        void fail(Throwable error) {
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

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)");

    /** {@code [first, last]} of a {@code Content-Range: bytes first-last/size}, or null. */
    private static long[] contentRange(String range) {
        java.util.regex.Matcher m = CONTENT_RANGE.matcher(range);
        return m.find()
                ? new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))}
                : null;
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
