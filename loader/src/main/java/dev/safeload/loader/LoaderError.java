package dev.safeload.loader;

import dev.safeload.ErrorKind;

/**
 * Why the loader refused a request. Failures of the layers below keep their own kinds: a hub miss
 * is a {@code HubException} ({@code OfflineMiss}, {@code RepoNotFound}, ...), a bad file a {@code
 * SafetensorsException}, an adapter that does not fit a {@code LoraException} ({@code
 * MissingModule}, {@code ShapeMismatch}, {@code WrongDtype}), a driver failure a {@code
 * CudaException}.
 */
public enum LoaderError implements ErrorKind {
    /** A CUDA device was asked for and none is usable here. */
    NoDevice,
    /** A device name that is neither {@code cpu} nor {@code cuda[:N]}. */
    InvalidDevice,
    /** A local model or adapter path that does not exist. */
    NotFound,
    /** Reading or writing a local file failed (the message names it and the cause). */
    Io,
    /** A model location whose scheme no installed store reads (for example {@code s3://}). */
    UnsupportedLocation,
    /** Adapters unmerged out of order: the ones merged after them must come out first. */
    MergeOrder,
}
