package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload dedupe}. */
@Command(name = "dedupe", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class DedupeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload dedupe: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
