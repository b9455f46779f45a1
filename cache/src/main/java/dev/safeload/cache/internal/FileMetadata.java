package dev.safeload.cache.internal;

import java.net.URI;

/**
 * What a HEAD on {@code /resolve/} tells (docs/hub.md §2.3).
 *
 * @param commit {@code X-Repo-Commit}
 * @param etag {@code X-Linked-Etag} or {@code ETag}, unquoted: the blob name (sha256 for LFS files)
 * @param size {@code X-Linked-Size} or, for a non-redirect answer, {@code Content-Length}
 * @param location where the bytes are: the {@code Location} of an absolute redirect, else the
 *     resolve URL
 * @param endpoint the endpoint that answered; the token may be sent to its origin only
 */
public record FileMetadata(String commit, String etag, long size, URI location, URI endpoint) {}
