package dev.safeload.cache;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-line progress bar for a terminal ({@code \r}-redrawn, at most five times a second): bytes,
 * percentage, rate and files done. Meant for interactive use only; the CLI shows it when stderr is
 * a terminal. Endpoint changes are printed on their own line.
 */
public final class TerminalProgressBar implements DownloadListener {
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int WIDTH = 30;

    private final PrintStream out;
    private final long startNanos = System.nanoTime();
    private final AtomicLong totalBytes = new AtomicLong();
    private final AtomicLong doneBytes = new AtomicLong();
    private final AtomicInteger totalFiles = new AtomicInteger();
    private final AtomicInteger doneFiles = new AtomicInteger();
    private final AtomicLong lastDraw = new AtomicLong();
    private volatile boolean planned;
    private volatile boolean drawn;

    public TerminalProgressBar(PrintStream out) {
        this.out = out;
    }

    @Override
    public void snapshotPlanned(int files, long bytes) {
        planned = true;
        totalFiles.set(files);
        totalBytes.set(bytes);
    }

    @Override
    public synchronized void endpointChanged(URI endpoint, String why) {
        clearLine();
        out.println(why);
    }

    @Override
    public void fileStarted(String path, long size, long resumedFrom) {
        if (!planned) {
            totalFiles.incrementAndGet();
            totalBytes.addAndGet(size);
        }
        doneBytes.addAndGet(resumedFrom);
        redraw(false);
    }

    @Override
    public void bytesReceived(String path, long count) {
        doneBytes.addAndGet(count);
        redraw(false);
    }

    @Override
    public void fileFinished(String path, Path file, boolean fromCache) {
        doneFiles.incrementAndGet();
        if (fromCache && planned) {
            try {
                doneBytes.addAndGet(java.nio.file.Files.size(file));
            } catch (java.io.IOException ignored) {
                // only the display is affected
            }
        }
        redraw(false);
    }

    /** Draws the final state and ends the line. */
    public synchronized void finish() {
        if (drawn) {
            redraw(true);
            out.println();
            drawn = false;
        }
    }

    private void redraw(boolean force) {
        long now = System.nanoTime();
        long last = lastDraw.get();
        if (!force && (now - last < REDRAW_NANOS || !lastDraw.compareAndSet(last, now))) {
            return;
        }
        synchronized (this) {
            out.print("\r" + line(now));
            out.flush();
            drawn = true;
        }
    }

    String line(long now) {
        long total = totalBytes.get();
        long done = Math.min(doneBytes.get(), Math.max(total, doneBytes.get()));
        double fraction = total > 0 ? Math.min(1.0, (double) done / total) : 0;
        int filled = (int) Math.round(fraction * WIDTH);
        double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
        return String.format(
                Locale.ROOT,
                "[%s%s] %3.0f%% %s/%s %s/s %d/%d files",
                "#".repeat(filled),
                " ".repeat(WIDTH - filled),
                fraction * 100,
                bytes(done),
                bytes(total),
                bytes((long) (done / seconds)),
                doneFiles.get(),
                totalFiles.get());
    }

    private void clearLine() {
        if (drawn) {
            out.print("\r\033[K");
        }
    }

    /** Decimal units, as huggingface_hub's size format (docs/hub.md §5.4), with a B. */
    static String bytes(long n) {
        String[] units = {"B", "kB", "MB", "GB", "TB"};
        double value = n;
        int unit = 0;
        while (value >= 1000 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return String.format(Locale.ROOT, unit == 0 ? "%.0f%s" : "%.1f%s", value, units[unit]);
    }
}
