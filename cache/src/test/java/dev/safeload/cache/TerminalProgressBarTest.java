package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

class TerminalProgressBarTest {
    @Test
    void drawsBytesPercentAndFilesAndEndsTheLine() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        TerminalProgressBar bar =
                new TerminalProgressBar(new PrintStream(sink, true, StandardCharsets.UTF_8));
        bar.snapshotPlanned(2, 2_000_000);
        bar.fileStarted("a", 1_000_000, 0);
        bar.bytesReceived("a", 1_000_000);
        bar.fileFinished("a", Path.of("a"), false);
        String line = bar.line(System.nanoTime());
        assertTrue(line.contains(" 50% 1.0MB/2.0MB "), line);
        assertTrue(line.endsWith("1/2 files"), line);
        assertTrue(line.startsWith("[" + "#".repeat(15) + " ".repeat(15) + "]"), line);
        bar.endpointChanged(URI.create("http://b"), "using http://b after: http://a refused");
        bar.finish();
        String out = sink.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("using http://b after: http://a refused\n"), out);
        assertTrue(out.endsWith("\n"), out);
        assertEquals("1.2kB", TerminalProgressBar.bytes(1_197));
    }
}
