package dev.safeload.cli;

import dev.safeload.cache.CacheCleaner;
import dev.safeload.cache.CacheScanner;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code safeload delete}: removes revisions, and the blobs no other revision uses. */
@Command(
        name = "delete",
        mixinStandardHelpOptions = true,
        description = {
            "Removes cached revisions and the blobs no remaining revision uses; a repository whose "
                    + "every revision goes is removed whole.",
            "REPO is a repo id (org/name) or a cache id (model/org/name) and may be a glob"
                + " ('bert-*'); REVISION is a commit, a commit prefix of 7+ digits, or a ref name"
                + " (main)."
        })
final class DeleteCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "REPO[@REVISION]", description = "What to delete.")
    List<String> targets;

    @Mixin HubCacheOption cache;

    @Option(
            names = "--dry-run",
            description = "Show what would be deleted and the bytes freed; delete nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        return DeletionOutput.carryOut(
                CacheCleaner.planDelete(CacheScanner.scan(cache.resolve()), targets), dryRun);
    }
}
