package dev.safeload.loader;

/**
 * Progress of the stages of a load, for a progress bar or a log. Downloads during the resolve stage
 * report through the {@link dev.safeload.cache.DownloadListener} of the loader's snapshot options
 * instead. Methods may be called from the loader's worker threads and should return quickly.
 */
public interface LoadListener {
    /** A listener that ignores everything. */
    LoadListener NONE = new LoadListener() {};

    /**
     * A stage starts.
     *
     * @param stage the stage
     * @param totalBytes the bytes it will move, or -1 when not known in advance
     */
    default void stageStarted(LoadStage stage, long totalBytes) {}

    /**
     * More of a stage is done.
     *
     * @param stage the stage
     * @param bytes bytes done since the last call
     */
    default void progress(LoadStage stage, long bytes) {}

    /**
     * A stage is done.
     *
     * @param timing its time and bytes
     */
    default void stageFinished(StageTiming timing) {}
}
