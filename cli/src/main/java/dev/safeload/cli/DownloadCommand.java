package dev.safeload.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until its issue lands: {@code safeload download}. */
@Command(name = "download", mixinStandardHelpOptions = true, description = "Not implemented yet.")
final class DownloadCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("safeload download: not implemented yet");
        return SafeloadCli.EXIT_FAILED;
    }
}
