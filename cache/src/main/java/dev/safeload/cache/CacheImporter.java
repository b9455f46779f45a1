package dev.safeload.cache;

import dev.safeload.cache.internal.BlobHashes;
import dev.safeload.cache.internal.CacheWriter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Publishes a local folder into a hub cache as one revision of a repository, in the layout
 * huggingface_hub writes (docs/hub.md §1): so a model that never came from the hub (a fine-tune, a
 * converted checkpoint) can be served by {@link CacheMirrorServer} and resolved offline like any
 * download.
 *
 * <p>Blob names follow the hub's etags: the sha256 for files stored in LFS, the git blob sha1 for
 * the others. Which files the hub keeps in LFS is decided by the repository's {@code
 * .gitattributes}; here a file goes to LFS when it is a weights file ({@code .safetensors}, {@code
 * .bin}, {@code .pt}, {@code .gguf}, ...) or larger than 10 MiB, the threshold above which the hub
 * refuses plain git files. The commit id is derived from the content (a sha1 over the sorted paths
 * and blob names), so importing the same folder twice gives the same commit.
 */
public final class CacheImporter {
    private static final long LFS_THRESHOLD = 10L << 20;
    private static final List<String> LFS_SUFFIXES =
            List.of(
                    ".safetensors",
                    ".bin",
                    ".pt",
                    ".pth",
                    ".ckpt",
                    ".gguf",
                    ".onnx",
                    ".h5",
                    ".msgpack",
                    ".npz");

    private CacheImporter() {}

    /**
     * Copies every regular file below {@code folder} into {@code cacheRoot} as {@code repo} at the
     * returned commit, and points {@code refs/<revision>} at it.
     *
     * @return the commit id (40 hex) of the imported snapshot
     */
    public static String importFolder(Path cacheRoot, HubRepo repo, Path folder, String revision) {
        RepoCacheLayout layout = repo.layout(cacheRoot);
        CacheWriter writer = new CacheWriter(cacheRoot, false);
        try (Stream<Path> walk = Files.walk(folder)) {
            List<Path> files = walk.filter(Files::isRegularFile).sorted().toList();
            MessageDigest commitDigest = MessageDigest.getInstance("SHA-1");
            String[] etags = new String[files.size()];
            Files.createDirectories(layout.blobsDir());
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                etags[i] =
                        BlobHashes.hash(
                                file,
                                isLfs(file)
                                        ? BlobHashes.Algorithm.SHA256
                                        : BlobHashes.Algorithm.GIT_SHA1);
                Path blob = layout.blob(etags[i]);
                if (!Files.exists(blob)) {
                    Path tmp = blob.resolveSibling(etags[i] + ".import.incomplete");
                    Files.copy(file, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(tmp, blob, StandardCopyOption.ATOMIC_MOVE);
                }
                commitDigest.update(
                        (relative(folder, file) + "\0" + etags[i] + "\n")
                                .getBytes(StandardCharsets.UTF_8));
            }
            String commit = HexFormat.of().formatHex(commitDigest.digest());
            for (int i = 0; i < files.size(); i++) {
                Path pointer = layout.snapshotFile(commit, relative(folder, files.get(i)));
                Files.createDirectories(pointer.getParent());
                writer.link(layout.blob(etags[i]), pointer, false);
            }
            if (!RepoCacheLayout.isCommit(revision)) {
                writer.writeRef(layout, revision, commit);
            }
            writer.tagCacheDir();
            return commit;
        } catch (IOException e) {
            throw new HubException(
                    HubError.Io,
                    "cannot import " + folder + " into " + cacheRoot + ": " + e.getMessage(),
                    e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every JDK", e);
        }
    }

    private static boolean isLfs(Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.size(file) > LFS_THRESHOLD || LFS_SUFFIXES.stream().anyMatch(name::endsWith);
    }

    private static String relative(Path folder, Path file) {
        return folder.relativize(file).toString().replace(java.io.File.separatorChar, '/');
    }
}
