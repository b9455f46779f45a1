package dev.safeload.cache;

import java.nio.file.Path;

/**
 * A partial download left in {@code blobs/} ({@code <etag>.incomplete} or {@code
 * <etag>.<8hex>.incomplete}); not part of any revision, so not counted in sizes.
 *
 * @param path the partial file
 * @param size its size in bytes
 */
public record IncompleteFile(Path path, long size) {}
