package dev.safeload.cli;

import dev.safeload.cache.DeletionPlan;

import java.util.List;
import java.util.Locale;

/**
 * Prints a deletion plan, runs it unless it is a dry run, and says what was freed (delete and
 * prune).
 */
final class DeletionOutput {
    private DeletionOutput() {}

    static int carryOut(DeletionPlan plan, boolean dryRun) {
        if (plan.isEmpty()) {
            System.out.println("Nothing to delete.");
            return 0;
        }
        System.out.printf(
                Locale.ROOT,
                "About to delete %d repo(s) and %d revision(s) totalling %s.%n",
                plan.repoFolders().size(),
                plan.revisions().size(),
                HumanFormat.size(plan.freedBytes()));
        plan.revisions().forEach(r -> System.out.println("  " + r));
        if (dryRun) {
            System.out.printf(
                    Locale.ROOT,
                    "Dry run: would free %d bytes (%s); nothing was deleted.%n",
                    plan.freedBytes(),
                    HumanFormat.size(plan.freedBytes()));
            return 0;
        }
        List<String> failures = plan.execute();
        failures.forEach(System.err::println);
        System.out.printf(
                Locale.ROOT,
                "Deleted %d revision(s); freed %d bytes (%s).%n",
                plan.revisions().size(),
                plan.freedBytes(),
                HumanFormat.size(plan.freedBytes()));
        return failures.isEmpty() ? 0 : SafeloadCli.EXIT_FAILED;
    }
}
