package dev.safeload.cuda;

/**
 * Device memory as {@code cuMemGetInfo} reports it.
 *
 * @param free bytes free now
 * @param total bytes on the device
 */
public record MemoryInfo(long free, long total) {}
