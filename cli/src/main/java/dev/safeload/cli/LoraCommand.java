package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload lora}. */
@Command(name = "lora", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class LoraCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload lora: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
