package dev.safeload.cli;

import dev.safeload.cache.DownloadListener;
import dev.safeload.cache.TerminalProgressBar;

import java.io.PrintStream;
import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * What a downloading command shows while it downloads: a progress bar on stderr when a person is
 * watching (the JVM's console is a terminal and {@code HF_HUB_DISABLE_PROGRESS_BARS} is not set),
 * else only a change of endpoint, one line on stderr, so that scripts read clean output.
 */
final class DownloadProgress {
    private final TerminalProgressBar bar;
    private final DownloadListener listener;

    private DownloadProgress(TerminalProgressBar bar, DownloadListener listener) {
        this.bar = bar;
        this.listener = listener;
    }

    /** A bar on {@code err} if a person watches, else endpoint notices only. */
    static DownloadProgress on(PrintStream err) {
        if (onTerminal()) {
            TerminalProgressBar bar = new TerminalProgressBar(err);
            return new DownloadProgress(bar, bar);
        }
        return new DownloadProgress(null, new EndpointNotices(err));
    }

    /** Nothing at all (for {@code --json}): the result is the only output. */
    static DownloadProgress silent() {
        return new DownloadProgress(null, DownloadListener.NONE);
    }

    DownloadListener listener() {
        return listener;
    }

    /** Ends the bar's line, if there is a bar; idempotent. */
    void finish() {
        if (bar != null) {
            bar.finish();
        }
    }

    /** Whether a person is watching: the JVM's console is a terminal, and bars are not off. */
    static boolean onTerminal() {
        java.io.Console console = System.console();
        String disabled = System.getenv("HF_HUB_DISABLE_PROGRESS_BARS");
        return console != null
                && console.isTerminal()
                && (disabled == null
                        || !List.of("1", "ON", "YES", "TRUE")
                                .contains(disabled.strip().toUpperCase(Locale.ROOT)));
    }

    /** Without a progress bar, a change of endpoint is still reported: one line on stderr. */
    private record EndpointNotices(PrintStream err) implements DownloadListener {
        @Override
        public void endpointChanged(URI endpoint, String why) {
            err.println("safeload: " + why);
        }
    }
}
