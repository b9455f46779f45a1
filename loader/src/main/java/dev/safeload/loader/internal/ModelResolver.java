package dev.safeload.loader.internal;

import dev.safeload.cache.DownloadListener;
import dev.safeload.cache.HubClient;
import dev.safeload.cache.HubSettings;
import dev.safeload.cache.SnapshotOptions;
import dev.safeload.loader.LoaderError;
import dev.safeload.loader.LoaderException;
import dev.safeload.loader.ModelRef;
import dev.safeload.loader.ResolvedModel;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The resolve stage: a repo through the hub cache ({@code snapshot_download}: what the cache holds
 * costs at most one request, offline none, missing files are downloaded and verified), a local path
 * as it is, a remote location as its URI for the store that opens it.
 */
public final class ModelResolver {
    private ModelResolver() {}

    /** Resolves {@code ref}; hub settings are only read for a repo. */
    public static ResolvedModel resolve(
            ModelRef ref, Supplier<HubSettings> hub, SnapshotOptions options) {
        long start = System.nanoTime();
        return switch (ref) {
            case ModelRef.Local local -> {
                if (!Files.exists(local.path())) {
                    throw new LoaderException(
                            LoaderError.NotFound,
                            "no such file or folder: "
                                    + local.path()
                                    + " (a model is a .safetensors file, an index, a folder"
                                    + " holding either, or a repo id)");
                }
                yield new ResolvedModel(
                        ref,
                        local.path().toAbsolutePath().toUri(),
                        null,
                        0,
                        System.nanoTime() - start);
            }
            case ModelRef.Remote remote ->
                    new ResolvedModel(ref, remote.uri(), null, 0, System.nanoTime() - start);
            case ModelRef.Hub repo -> {
                LongAdder downloaded = new LongAdder();
                DownloadListener counting = new CountingListener(options.listener(), downloaded);
                Path snapshot;
                try (HubClient client = new HubClient(hub.get())) {
                    snapshot =
                            client.snapshotDownload(
                                    repo.repo(), repo.revision(), options.withListener(counting));
                }
                URI location = snapshot.toAbsolutePath().toUri();
                yield new ResolvedModel(
                        ref,
                        location,
                        snapshot.getFileName().toString(),
                        downloaded.sum(),
                        System.nanoTime() - start);
            }
        };
    }

    /** Forwards everything and counts the bytes received. */
    private record CountingListener(DownloadListener next, LongAdder received)
            implements DownloadListener {
        @Override
        public void snapshotPlanned(int files, long bytes) {
            next.snapshotPlanned(files, bytes);
        }

        @Override
        public void endpointChanged(URI endpoint, String why) {
            next.endpointChanged(endpoint, why);
        }

        @Override
        public void fileStarted(String path, long size, long resumedFrom) {
            next.fileStarted(path, size, resumedFrom);
        }

        @Override
        public void bytesReceived(String path, long count) {
            received.add(count);
            next.bytesReceived(path, count);
        }

        @Override
        public void fileFinished(String path, Path file, boolean fromCache) {
            next.fileFinished(path, file, fromCache);
        }
    }
}
