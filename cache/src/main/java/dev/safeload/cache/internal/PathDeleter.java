package dev.safeload.cache.internal;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Locale;

/** Removes files and folder trees without following links; failures are collected, not thrown. */
public final class PathDeleter {
    private PathDeleter() {}

    /** Deletes {@code path} (a link itself, never its target; a folder with all it holds). */
    public static void delete(Path path, String what, List<String> failures) {
        try {
            if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(path);
            } else {
                Files.delete(path);
            }
        } catch (NoSuchFileException e) {
            failures.add(
                    String.format(
                            Locale.ROOT, "Couldn't delete %s: file not found (%s)", what, path));
        } catch (IOException e) {
            failures.add(String.format(Locale.ROOT, "Couldn't delete %s %s: %s", what, path, e));
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        Files.walkFileTree(
                dir,
                new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                            throws IOException {
                        Files.deleteIfExists(file);
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult postVisitDirectory(Path d, IOException e)
                            throws IOException {
                        if (e != null) {
                            throw e;
                        }
                        Files.deleteIfExists(d);
                        return FileVisitResult.CONTINUE;
                    }
                });
    }
}
