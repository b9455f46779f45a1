package dev.safeload.cuda;

/**
 * What one upload moved.
 *
 * @param tensors tensors uploaded
 * @param bytesRead bytes read from the files (slices only)
 * @param bytesTransferred bytes copied to the device (including alignment padding)
 * @param arenaBytes the device arena's size
 * @param nanos wall time of the transfer, from the first read to the last copy done
 */
public record UploadReport(
        int tensors, long bytesRead, long bytesTransferred, long arenaBytes, long nanos) {
    /** Bytes read per second, in GB/s (10^9). */
    public double gigabytesPerSecond() {
        return nanos == 0 ? 0 : bytesRead / (double) nanos;
    }
}
