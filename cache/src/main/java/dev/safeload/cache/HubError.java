package dev.safeload.cache;

import dev.safeload.ErrorKind;

/** Why a hub or cache operation failed; names follow huggingface_hub's error classes. */
public enum HubError implements ErrorKind {
    RepoNotFound,
    RevisionNotFound,
    EntryNotFound,
    GatedRepo,
    Unauthorized,
    OfflineMiss,
    Network,
    ServerError,
    Corrupted,
    UnsafePath,
    CacheCorrupted,
    Io,
    /** A setting (environment variable or builder value) cannot be used. */
    InvalidSettings,
    /** An offline snapshot misses files its recorded listing names. */
    IncompleteSnapshot,
    /** The cache folder named does not exist or is not a folder. */
    CacheNotFound,
}
