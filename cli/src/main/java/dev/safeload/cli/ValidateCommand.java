package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload validate}. */
@Command(name = "validate", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class ValidateCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload validate: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
