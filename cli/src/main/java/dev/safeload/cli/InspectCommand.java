package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload inspect}. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class InspectCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload inspect: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
