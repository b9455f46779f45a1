/**
 * The {@code safeload} command line, on picocli: one class per command, run by {@link
 * dev.safeload.cli.SafeloadCli}. Its contract (commands, options, output, exit status, environment)
 * is docs/CLI.md. This is the only module that knows about terminals, progress bars and
 * command-line flags: it maps the library's exceptions to {@code KIND: message} lines and exit
 * codes, and the library's settings to options. It is an application, not an API; the commands are
 * package-private.
 */
package dev.safeload.cli;
