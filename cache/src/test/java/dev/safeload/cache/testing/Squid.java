package dev.safeload.cache.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Debian's Squid, started for one test with a private configuration on 127.0.0.1 (a free port, no
 * cache, its own access log, optionally Basic credentials checked by {@code basic_ncsa_auth}),
 * stopped by {@link #close()}. {@link #requests()} reads the access log: one {@link Logged} per
 * request the proxy handled, with the user it authenticated.
 *
 * <p>Run as root, Squid drops to its own user, so its files live in a folder of their own under the
 * system's temporary folder, open to that user, not under the test's 0700 folder.
 */
public final class Squid implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/sbin/squid");
    private static final Path NCSA = Path.of("/usr/lib/squid/basic_ncsa_auth");

    /** One access-log line: status (as {@code TCP_MISS/200}), method, URL and user ({@code -}). */
    public record Logged(String status, String method, String url, String user) {
        @Override
        public String toString() {
            return status + " " + method + " " + url + " " + user;
        }
    }

    private final Process process;
    private final Path dir;
    private final int port;

    private Squid(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    /** Whether Squid and its Basic-auth helper are installed ({@code .ci/run} installs them). */
    public static boolean installed() {
        return Files.isExecutable(BINARY) && Files.isExecutable(NCSA);
    }

    /**
     * Starts Squid; with {@code user} non-null, every request must carry {@code
     * Proxy-Authorization: Basic user:password} (others get 407).
     */
    public static Squid start(String user, String password) {
        try {
            Path dir = Files.createTempDirectory("safeload-squid-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            int port = freePort();
            StringBuilder conf = new StringBuilder();
            conf.append("http_port 127.0.0.1:").append(port).append('\n');
            conf.append("pid_filename ").append(dir.resolve("squid.pid")).append('\n');
            conf.append("access_log stdio:").append(dir.resolve("access.log")).append('\n');
            conf.append("cache_log ").append(dir.resolve("cache.log")).append('\n');
            conf.append("coredump_dir ").append(dir).append('\n');
            conf.append("cache deny all\ncache_mem 8 MB\nshutdown_lifetime 1 seconds\n");
            conf.append("acl SSL_ports port 1-65535\n");
            if (user != null) {
                Path passwd = dir.resolve("passwd");
                Files.writeString(passwd, user + ":" + apr1(password) + "\n");
                Files.setPosixFilePermissions(passwd, PosixFilePermissions.fromString("rw-r--r--"));
                conf.append("auth_param basic program ")
                        .append(NCSA)
                        .append(' ')
                        .append(passwd)
                        .append('\n');
                conf.append("auth_param basic realm safeload-test\n");
                conf.append("acl authed proxy_auth REQUIRED\n");
                conf.append("http_access allow localhost authed\n");
            } else {
                conf.append("http_access allow localhost\n");
            }
            conf.append("http_access deny all\n");
            Path confFile = dir.resolve("squid.conf");
            Files.writeString(confFile, conf.toString());
            Files.setPosixFilePermissions(confFile, PosixFilePermissions.fromString("rw-r--r--"));
            Process process =
                    new ProcessBuilder(BINARY.toString(), "-N", "-f", confFile.toString())
                            .redirectErrorStream(true)
                            .redirectOutput(dir.resolve("squid.out").toFile())
                            .start();
            Squid squid = new Squid(process, dir, port);
            squid.awaitListening();
            return squid;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code http://127.0.0.1:PORT}. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** {@code http://user:password@127.0.0.1:PORT} (give the parts percent-encoded). */
    public String uri(String user, String password) {
        return "http://" + user + ":" + password + "@127.0.0.1:" + port;
    }

    /** The requests logged so far (Squid logs a tunnel when it closes). */
    public List<Logged> requests() {
        Path log = dir.resolve("access.log");
        if (!Files.exists(log)) {
            return List.of();
        }
        try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
            List<Logged> out = new ArrayList<>();
            for (String line : lines.toList()) {
                String[] f = line.strip().split("\\s+");
                if (f.length >= 8) {
                    out.add(new Logged(f[3], f[5], f[6], f[7]));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits (at most 30 s) until a logged request satisfies {@code condition}; Squid writes a line
     * when a request or a tunnel ends, a moment after the client saw its answer.
     */
    public boolean awaitLogged(Predicate<Logged> condition) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < end) {
            if (requests().stream().anyMatch(condition)) {
                return true;
            }
            sleep();
        }
        return false;
    }

    /** The access log, for assertion messages. */
    public String log() {
        return String.join("\n", requests().stream().map(Logged::toString).toList());
    }

    private static String apr1(String password) throws IOException {
        Process p =
                new ProcessBuilder("openssl", "passwd", "-apr1", password)
                        .redirectErrorStream(true)
                        .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (p.waitFor() != 0 || !out.startsWith("$apr1$")) {
                throw new IOException("openssl passwd failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return out;
    }

    private void awaitListening() throws IOException {
        for (int i = 0; i < 600; i++) {
            if (!process.isAlive()) {
                throw new IOException(
                        "squid exited with " + process.exitValue() + ": " + tail("squid.out"));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return;
            } catch (IOException e) {
                sleep();
            }
        }
        throw new IOException("squid did not listen on port " + port + ": " + tail("cache.log"));
    }

    private String tail(String name) {
        try {
            String text = Files.readString(dir.resolve(name));
            return text.substring(Math.max(0, text.length() - 2000));
        } catch (IOException e) {
            return "(no " + name + ")";
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a leftover folder in /tmp is harmless
        }
    }
}
