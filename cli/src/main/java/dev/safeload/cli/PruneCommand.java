package dev.safeload.cli;

import dev.safeload.cache.CacheCleaner;
import dev.safeload.cache.CacheScanner;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code safeload prune}: removes revisions that no ref points to. */
@Command(
        name = "prune",
        mixinStandardHelpOptions = true,
        description =
                "Removes cached revisions that no ref (main, a tag, refs/pr/N) points to, and the"
                        + " blobs only they use.")
final class PruneCommand implements Callable<Integer> {
    @Mixin HubCacheOption cache;

    @Option(
            names = "--dry-run",
            description = "Show what would be deleted and the bytes freed; delete nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        return DeletionOutput.carryOut(
                CacheCleaner.planPrune(CacheScanner.scan(cache.resolve())), dryRun);
    }
}
