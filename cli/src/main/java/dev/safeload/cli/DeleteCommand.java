package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload delete}. */
@Command(name = "delete", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class DeleteCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload delete: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
