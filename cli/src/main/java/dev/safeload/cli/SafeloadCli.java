package dev.safeload.cli;

import dev.safeload.SafeloadException;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code safeload} command. The contract (commands, options, exit codes) is in docs/CLI.md:
 * exit 0 on success, 1 when the input is invalid or an operation failed (one line per problem on
 * stderr, no stack trace unless {@code --debug}), 2 for wrong usage.
 */
@Command(
        name = "safeload",
        mixinStandardHelpOptions = true,
        versionProvider = SafeloadCli.Version.class,
        description = "Model weights from the Hugging Face hub (or any mirror) to a GPU.",
        subcommands = {
            InspectCommand.class,
            ValidateCommand.class,
            ExportCommand.class,
            ConvertCommand.class,
            DownloadCommand.class,
            ScanCommand.class,
            DeleteCommand.class,
            PruneCommand.class,
            VerifyCommand.class,
            DedupeCommand.class,
            ServeCommand.class,
            LoraCommand.class,
            DemoCommand.class,
        })
public final class SafeloadCli {
    @picocli.CommandLine.Option(
            names = "--debug",
            scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces for failures.")
    boolean debug;

    /** Exit status when an operation failed or its input was invalid. */
    public static final int EXIT_FAILED = 1;

    /** Exit status for wrong usage. */
    public static final int EXIT_USAGE = 2;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit status (tests call this in-process). */
    public static int run(String... args) {
        boolean debug = java.util.Arrays.asList(args).contains("--debug");
        CommandLine cli = new CommandLine(new SafeloadCli());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setExitCodeExceptionMapper(e -> EXIT_FAILED);
        cli.setParameterExceptionHandler(
                (e, a) -> {
                    PrintWriter err = e.getCommandLine().getErr();
                    err.println("safeload: " + e.getMessage());
                    e.getCommandLine().usage(err);
                    return EXIT_USAGE;
                });
        cli.setExecutionExceptionHandler(
                (e, commandLine, parseResult) -> {
                    PrintWriter err = commandLine.getErr();
                    if (debug) {
                        e.printStackTrace(err);
                    }
                    err.println(describe(e));
                    err.flush();
                    return EXIT_FAILED;
                });
        return cli.execute(args);
    }

    /** One line for a failure: {@code KIND: message} for our own errors. */
    static String describe(Throwable e) {
        if (e instanceof SafeloadException se) {
            return se.kind().name() + ": " + se.getMessage();
        }
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = SafeloadCli.class.getPackage().getImplementationVersion();
            return new String[] {"safeload " + (v == null ? "dev" : v)};
        }
    }
}
