package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload export}. */
@Command(name = "export", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class ExportCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload export: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
