package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload verify}. */
@Command(name = "verify", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class VerifyCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload verify: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
