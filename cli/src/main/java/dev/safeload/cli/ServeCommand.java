package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload serve}. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class ServeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload serve: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
