package dev.safeload.safetensors;

import dev.safeload.ErrorKind;

/**
 * Why a safetensors file (or an operation on one) was refused. The first ten are the reference
 * implementation's {@code SafeTensorError} variants, under the same names, so that {@code safeload
 * validate} reports what the reference reader would.
 */
public enum SafetensorsError implements ErrorKind {
    /** Fewer than 8 bytes, or a header length that runs past the end of the file. */
    HeaderTooSmall,
    /** The header length is over the configured limit. */
    HeaderTooLarge,
    /** The header length field is inconsistent with the file. */
    InvalidHeaderLength,
    /** The header is not valid UTF-8, or does not start as the format requires. */
    InvalidHeader,
    /** The header is not valid JSON of the expected shape. */
    InvalidHeaderDeserialization,
    /** A tensor's offsets are out of order, overlapping, or leave holes. */
    InvalidOffset,
    /** A tensor's byte length does not match its shape and dtype. */
    TensorInvalidInfo,
    /** The data section is shorter or longer than the tensors it must hold. */
    MetadataIncompleteBuffer,
    /** A size computation overflowed. */
    ValidationOverflow,
    /** A slice or byte range does not fall on an element boundary of a sub-byte dtype. */
    MisalignedSlice,
    /** A tensor name that is not in the file. */
    TensorNotFound,
    /** A slice specification that is malformed or out of range. */
    InvalidSlice,
    /** A conversion or operation the dtype does not support. */
    UnsupportedDtype,
    /** A sharded index that is malformed or names a shard outside its folder. */
    InvalidIndex,
    /** A writer input the reference writer would produce but could not read back. */
    InvalidWrite,
    /** An I/O failure reading or writing a file. */
    Io,
}
