package dev.safeload.cache.internal;

import dev.safeload.cache.ProxyRules.HttpProxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback relay that opens HTTPS tunnels through a proxy wanting Basic credentials, for one HTTP
 * client (docs/hub.md §2.10).
 *
 * <p>Why it exists: {@code java.net.http.HttpClient} never sends Basic credentials in a {@code
 * CONNECT} (the JDK's {@code jdk.http.auth.tunneling.disabledSchemes=Basic}, read once per JVM),
 * and the library must not change a JVM-wide setting. So the client's tunnels go to this relay
 * instead, which sends the {@code CONNECT} to the real proxy with {@code Proxy-Authorization:
 * Basic}, passes the proxy's answer back, and then copies bytes both ways. TLS still runs end to
 * end between the client and the server; the relay sees only ciphertext.
 *
 * <p>Only its own client may use it: the relay listens on 127.0.0.1 and wants {@code
 * Proxy-Authorization: Bearer <random secret>} on every {@code CONNECT} ({@link
 * #clientCredential()}), so another local process cannot borrow the proxy credentials. It owns its
 * server socket, its connections and their threads; {@link #close()} ends them all.
 */
public final class ProxyTunnelRelay implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.safeload.cache");
    private static final int MAX_HEAD = 16 * 1024;
    private static final int BUFFER = 256 * 1024;

    private final HttpProxy proxy;
    private final Duration timeout;
    private final ServerSocket server;
    private final byte[] secret;
    private final String basic;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile String lastFailure;
    private volatile boolean closed;

    /**
     * Starts the relay for {@code proxy}; {@code timeout} bounds the connection to the proxy and
     * its answer to the {@code CONNECT}.
     */
    public ProxyTunnelRelay(HttpProxy proxy, Duration timeout) throws IOException {
        this.proxy = proxy;
        this.timeout = timeout;
        this.server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        this.secret = HexFormat.of().formatHex(random).getBytes(StandardCharsets.US_ASCII);
        String user = proxy.username() + ":" + (proxy.password() == null ? "" : proxy.password());
        this.basic = Base64.getEncoder().encodeToString(user.getBytes(StandardCharsets.UTF_8));
        Thread.ofVirtual().name("safeload-proxy-relay").start(this::acceptLoop);
    }

    /** Where the client's proxy selector sends tunnels. */
    public InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    /** The {@code Proxy-Authorization} value the client puts on its requests. */
    public String clientCredential() {
        return "Bearer " + new String(secret, StandardCharsets.US_ASCII);
    }

    /** What went wrong with the last tunnel that failed, or {@code null}; never credentials. */
    public String lastFailure() {
        return lastFailure;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.DEBUG, "proxy relay stopped: " + e);
                }
                return;
            }
            open.add(client);
            Thread.ofVirtual().name("safeload-proxy-tunnel").start(() -> serve(client));
        }
    }

    private void serve(Socket client) {
        Socket upstream = null;
        try {
            client.setSoTimeout((int) Math.max(1000, timeout.toMillis()));
            Head request = Head.read(client.getInputStream());
            if (request == null) {
                return;
            }
            String[] line = request.firstLine().split(" ");
            if (line.length != 3 || !line[0].equals("CONNECT")) {
                answer(client, "405 Method Not Allowed");
                return;
            }
            if (!authorized(request)) {
                answer(client, "407 Proxy Authentication Required");
                return;
            }
            String target = line[1];
            upstream = new Socket();
            open.add(upstream);
            try {
                upstream.connect(
                        new InetSocketAddress(proxy.host(), proxy.port()),
                        (int) Math.max(1000, timeout.toMillis()));
            } catch (IOException e) {
                fail(client, "cannot connect to the proxy " + proxy + ": " + describe(e));
                return;
            }
            upstream.setSoTimeout((int) Math.max(1000, timeout.toMillis()));
            OutputStream toProxy = upstream.getOutputStream();
            toProxy.write(
                    ("CONNECT "
                                    + target
                                    + " HTTP/1.1\r\nHost: "
                                    + target
                                    + "\r\nProxy-Authorization: Basic "
                                    + basic
                                    + "\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
            toProxy.flush();
            Head answer = Head.read(upstream.getInputStream());
            if (answer == null) {
                fail(client, "the proxy " + proxy + " closed the connection without an answer");
                return;
            }
            String[] status = answer.firstLine().split(" ", 3);
            if (status.length < 2 || !status[1].equals("200")) {
                String code = status.length >= 2 ? status[1] : "?";
                lastFailure =
                        "the proxy "
                                + proxy
                                + " answered the tunnel to "
                                + target
                                + " with "
                                + answer.firstLine().substring(answer.firstLine().indexOf(' ') + 1);
                answer(
                        client,
                        code.equals("407")
                                ? "407 Proxy Authentication Required"
                                : code + " Tunnel Failed");
                return;
            }
            client.setSoTimeout(0);
            upstream.setSoTimeout(0);
            OutputStream toClient = client.getOutputStream();
            toClient.write(
                    "HTTP/1.1 200 Connection Established\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
            toClient.write(answer.rest());
            toClient.flush();
            toProxy.write(request.rest());
            toProxy.flush();
            Socket up = upstream;
            Thread back =
                    Thread.ofVirtual().name("safeload-proxy-tunnel").start(() -> pump(up, client));
            pump(client, upstream);
            back.join();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "proxy tunnel ended: " + describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    private boolean authorized(Head request) {
        String value = request.header("proxy-authorization");
        if (value == null || !value.startsWith("Bearer ")) {
            return false;
        }
        return MessageDigest.isEqual(
                secret, value.substring(7).strip().getBytes(StandardCharsets.US_ASCII));
    }

    private void fail(Socket client, String why) throws IOException {
        lastFailure = why;
        answer(client, "502 Bad Gateway");
    }

    private static void answer(Socket client, String status) throws IOException {
        OutputStream out = client.getOutputStream();
        out.write(
                ("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Copies {@code from} to {@code to} until end of stream, then half-closes {@code to}. */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[BUFFER];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // one side went away: end both
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static String describe(IOException e) {
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message;
    }

    private void closeQuietly(Socket socket) {
        if (socket != null) {
            open.remove(socket);
            try {
                socket.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket socket : open) {
            closeQuietly(socket);
        }
    }

    /** A request or response head: its first line, headers, and bytes read past it. */
    private record Head(String firstLine, String headers, byte[] rest) {
        String header(String lowerName) {
            for (String line : headers.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0
                        && line.substring(0, colon)
                                .strip()
                                .toLowerCase(Locale.ROOT)
                                .equals(lowerName)) {
                    return line.substring(colon + 1).strip();
                }
            }
            return null;
        }

        /** Reads up to the blank line; {@code null} when the stream ends first. */
        static Head read(InputStream in) throws IOException {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            byte[] chunk = new byte[4096];
            while (true) {
                int n;
                try {
                    n = in.read(chunk);
                } catch (SocketException e) {
                    return null;
                }
                if (n < 0) {
                    return null;
                }
                buffer.write(chunk, 0, n);
                byte[] bytes = buffer.toByteArray();
                int end = indexOf(bytes);
                if (end >= 0) {
                    String head = new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
                    int eol = head.indexOf("\r\n");
                    String first = eol < 0 ? head : head.substring(0, eol);
                    String headers = eol < 0 ? "" : head.substring(eol + 2);
                    byte[] rest = java.util.Arrays.copyOfRange(bytes, end + 4, bytes.length);
                    return new Head(first, headers, rest);
                }
                if (bytes.length > MAX_HEAD) {
                    throw new IOException("a message head longer than " + MAX_HEAD + " bytes");
                }
            }
        }

        private static int indexOf(byte[] bytes) {
            for (int i = 0; i + 3 < bytes.length; i++) {
                if (bytes[i] == '\r'
                        && bytes[i + 1] == '\n'
                        && bytes[i + 2] == '\r'
                        && bytes[i + 3] == '\n') {
                    return i;
                }
            }
            return -1;
        }
    }
}
