package dev.safeload.cache;

import java.net.URI;
import java.nio.file.Path;

/**
 * Progress of downloads, for a progress bar or a log. Methods may be called from several worker
 * threads at once (snapshot downloads run files in parallel), so implementations must be
 * thread-safe; they should return quickly, since they run on the download path.
 */
public interface DownloadListener {
    /** A listener that ignores everything. */
    DownloadListener NONE = new DownloadListener() {};

    /**
     * A snapshot is about to fetch its files.
     *
     * @param files how many files it selected (cached ones included)
     * @param bytes their size in all
     */
    default void snapshotPlanned(int files, long bytes) {}

    /**
     * An endpoint other than the first one is used, or one failed.
     *
     * @param endpoint the endpoint used from now on
     * @param why which endpoint failed and how, for example "mirror http://a/ failed: connection
     *     refused; using http://b/"
     */
    default void endpointChanged(URI endpoint, String why) {}

    /**
     * A file starts to download.
     *
     * @param path the file's path in the repository
     * @param size its size in bytes
     * @param resumedFrom bytes already on disk from an earlier attempt (0 for a fresh start)
     */
    default void fileStarted(String path, long size, long resumedFrom) {}

    /**
     * More bytes of a file arrived.
     *
     * @param path the file's path in the repository
     * @param count how many bytes since the last call for this file
     */
    default void bytesReceived(String path, long count) {}

    /**
     * A file is complete in the cache.
     *
     * @param path the file's path in the repository
     * @param file where it is: its snapshot entry
     * @param fromCache whether nothing had to be downloaded
     */
    default void fileFinished(String path, Path file, boolean fromCache) {}
}
