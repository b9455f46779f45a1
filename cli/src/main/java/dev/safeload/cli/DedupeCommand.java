package dev.safeload.cli;

import dev.safeload.cache.CacheDeduper;
import dev.safeload.cache.DedupeReport;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code safeload dedupe}: hard-links identical blobs across caches on one filesystem. */
@Command(
        name = "dedupe",
        mixinStandardHelpOptions = true,
        description = {
            "Hard-links identical blobs within and across hub caches on one filesystem, atomically;"
                    + " each copy is rehashed first and corrupt copies are left alone.",
            "Copies on different filesystems are skipped with a message."
        })
final class DedupeCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "DIR", description = "Hub cache folders.")
    List<Path> dirs;

    @Override
    public Integer call() {
        DedupeReport report = CacheDeduper.dedupe(dirs);
        report.messages().forEach(System.out::println);
        System.out.printf(
                Locale.ROOT,
                "Examined %d blob(s); linked %d; freed %d bytes (%s).%n",
                report.blobsExamined(),
                report.linked(),
                report.bytesSaved(),
                HumanFormat.size(report.bytesSaved()));
        System.out.flush();
        return 0;
    }
}
