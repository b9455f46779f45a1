package dev.safeload.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the {@code safeload} command for tests: in this JVM, or as a separate Java process. */
final class CliCapture {
    private CliCapture() {}

    /** What a run printed and returned; stdout is kept as bytes too (export writes binary). */
    record Outcome(int status, byte[] stdoutBytes, String stderr) {
        Outcome(int status, String stdout, String stderr) {
            this(status, stdout.getBytes(StandardCharsets.UTF_8), stderr);
        }

        String stdout() {
            return new String(stdoutBytes, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "exit " + status + "\n--- stdout\n" + stdout() + "--- stderr\n" + stderr;
        }
    }

    /**
     * {@link SafeloadCli#run} with System.out and System.err captured (tests in a class run one at
     * a time).
     */
    static synchronized Outcome inProcess(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        try {
            int status = SafeloadCli.run(args);
            return new Outcome(
                    status, stdout.toByteArray(), stderr.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** The java launcher of this JVM (a JDK 25) running SafeloadCli on {@code classPath}. */
    static List<String> javaCommand(String classPath) {
        String java =
                ProcessHandle.current()
                        .info()
                        .command()
                        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        return new ArrayList<>(
                List.of(
                        java,
                        "--enable-native-access=ALL-UNNAMED",
                        "-cp",
                        classPath,
                        SafeloadCli.class.getName()));
    }

    /** Starts {@code command}; stdout and stderr are pipes the caller reads. */
    static Process start(List<String> command) {
        try {
            return new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /** Runs {@code command} to completion (at most 120 s). */
    static Outcome run(List<String> command) throws InterruptedException {
        Process process = start(command);
        CompletableFuture<String> out = drain(process, true);
        CompletableFuture<String> err = drain(process, false);
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("did not finish in 120 s: " + command);
        }
        return new Outcome(process.exitValue(), out.join(), err.join());
    }

    private static CompletableFuture<String> drain(Process process, boolean stdout) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try (var in = stdout ? process.getInputStream() : process.getErrorStream()) {
                        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }
}
