package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload convert}. */
@Command(name = "convert", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class ConvertCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload convert: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
