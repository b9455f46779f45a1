package dev.safeload.cache;

import dev.safeload.ErrorKind;

/**
 * Why a hub or cache operation failed, the {@link HubException#kind()} of every error of this
 * module. The names of the hub's answers follow huggingface_hub's error classes (docs/hub.md §2.8),
 * so a message can be compared with what the Python client says.
 */
public enum HubError implements ErrorKind {
    /** The hub has no such repository, or refused the token for it (HTTP 401). */
    RepoNotFound,
    /** The repository has no such branch, tag or commit. */
    RevisionNotFound,
    /** The revision has no such file. */
    EntryNotFound,
    /** The repository is gated and this token has not been granted access. */
    GatedRepo,
    /** The hub refused the request (HTTP 403): the token lacks a permission. */
    Unauthorized,
    /** Offline mode (or an unreachable hub) and the cache does not have what was asked. */
    OfflineMiss,
    /** No endpoint could be reached, or a transfer broke off, after every retry. */
    Network,
    /**
     * An endpoint failed (5xx, 408, 429 after every retry) or answered in a way no hub does (no
     * {@code X-Repo-Commit}, a 404 without an error code, an oversized answer).
     */
    ServerError,
    /** Downloaded bytes do not match the announced size or their sha256; nothing was kept. */
    Corrupted,
    /** A repo id, file path, revision or blob name that could leave its cache folder. */
    UnsafePath,
    /**
     * Reserved for a cache whose layout contradicts itself; scans report such problems as {@link
     * CacheProblem}s instead, so nothing throws this kind today.
     */
    CacheCorrupted,
    /** Reading or writing the cache failed (permissions, a full disk, a missing folder). */
    Io,
    /** A setting (environment variable or builder value) cannot be used. */
    InvalidSettings,
    /** An offline snapshot misses files its recorded listing names. */
    IncompleteSnapshot,
    /** The cache folder named does not exist or is not a folder. */
    CacheNotFound,
    /**
     * The HTTP proxy refused the request or its credentials, or cannot be reached (httpx's {@code
     * ProxyError}).
     */
    ProxyError,
}
