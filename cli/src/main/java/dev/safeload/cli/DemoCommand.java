package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload demo}. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload demo: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
