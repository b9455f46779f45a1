package dev.safeload.cli;

import dev.safeload.cache.BlobCheck;
import dev.safeload.cache.CacheVerifier;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code safeload verify}: rehashes blobs against their names. */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = {
            "Rehashes every blob against its name: sha256 for 64-hex (LFS) names, the git blob sha1"
                    + " for 40-hex names.",
            "Prints one line per corrupt blob on stderr and exits 1 if there is any."
        })
final class VerifyCommand implements Callable<Integer> {
    @Parameters(
            arity = "0..*",
            paramLabel = "REPO",
            description =
                    "Repositories to check (repo id or cache id, globs allowed); all when none is"
                            + " given.")
    List<String> repos = List.of();

    @Mixin HubCacheOption cache;

    @Override
    public Integer call() {
        List<BlobCheck> checks = CacheVerifier.verify(cache.resolve(), repos);
        List<BlobCheck> bad = checks.stream().filter(c -> !c.ok()).toList();
        bad.forEach(c -> System.err.println(c.describe()));
        long bytes = checks.stream().mapToLong(c -> Math.max(0, c.size())).sum();
        long repoCount = checks.stream().map(BlobCheck::cacheId).distinct().count();
        System.out.printf(
                Locale.ROOT,
                "Verified %d blob(s) (%s) in %d repo(s): %s.%n",
                checks.size(),
                HumanFormat.size(bytes),
                repoCount,
                bad.isEmpty() ? "all intact" : bad.size() + " corrupt");
        System.out.flush();
        return bad.isEmpty() ? 0 : SafeloadCli.EXIT_FAILED;
    }
}
