package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload prune}. */
@Command(name = "prune", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class PruneCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload prune: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
