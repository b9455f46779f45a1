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
     * A snapshot is about to fetch {@code files} files holding {@code bytes} bytes in all (cached
     * ones included).
     */
    default void snapshotPlanned(int files, long bytes) {}

    /**
     * An endpoint other than the first one is used, or one failed: {@code why} says which and why
     * (for example "mirror http://a/ failed: connection refused; using http://b/").
     */
    default void endpointChanged(URI endpoint, String why) {}

    /**
     * A file starts to download: {@code size} bytes in all, {@code resumedFrom} already on disk
     * from an earlier attempt.
     */
    default void fileStarted(String path, long size, long resumedFrom) {}

    /** {@code count} more bytes of {@code path} arrived. */
    default void bytesReceived(String path, long count) {}

    /**
     * {@code path} is complete in the cache at {@code file}; {@code fromCache} when nothing had to
     * be downloaded.
     */
    default void fileFinished(String path, Path file, boolean fromCache) {}
}
