package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload scan}. */
@Command(name = "scan", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class ScanCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload scan: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
