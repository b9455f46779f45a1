package dev.safeload.cache;

import com.sun.net.httpserver.HttpServer;

import dev.safeload.cache.internal.HubClientUpstream;
import dev.safeload.cache.internal.MirrorHandler;
import dev.safeload.cache.internal.MirrorUpstream;
import dev.safeload.cache.internal.ScanWalker;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves a hub cache as a hub endpoint, so that {@code HF_ENDPOINT=http://host:port} works for
 * huggingface_hub and for our resolver (the minimum contract of docs/hub.md §7.4: the {@code
 * /resolve/} route with the hub's headers and ranges, the revision, tree and paths-info APIs, and
 * {@code X-Error-Code} 404s). Without an upstream it only reads the cache, so a cache read-only to
 * this user can be served; with one, misses are downloaded into the cache first (through {@link
 * HubClient}, verified) and then served. Each request runs on its own virtual thread.
 *
 * {@snippet :
 * try (CacheMirrorServer server = CacheMirrorServer.start(new CacheMirrorServer.Options(cacheDir))) {
 *     System.out.println("HF_ENDPOINT=" + server.uri());
 *     // ... clients download from it until the server is closed
 * }
 * }
 */
public final class CacheMirrorServer implements AutoCloseable {
    /**
     * How to serve.
     *
     * @param cacheDir the hub cache to serve
     * @param bind the address to listen on (loopback by default)
     * @param port the port; 0 picks a free one
     * @param treePageSize tree entries per page before a {@code Link: rel="next"} (the hub pages by
     *     1000)
     * @param upstream where misses are pulled from into the cache, or {@code null} to serve the
     *     cache alone
     */
    public record Options(
            Path cacheDir, InetAddress bind, int port, int treePageSize, HubSettings upstream) {
        public Options {
            Objects.requireNonNull(cacheDir, "cacheDir");
            Objects.requireNonNull(bind, "bind");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535, got " + port);
            }
            if (treePageSize < 1) {
                throw new IllegalArgumentException(
                        "treePageSize must be positive, got " + treePageSize);
            }
        }

        /** Serves {@code cacheDir} alone on a free loopback port. */
        public Options(Path cacheDir) {
            this(cacheDir, InetAddress.getLoopbackAddress(), 0, 1000, null);
        }

        public Options withBind(InetAddress address, int newPort) {
            return new Options(cacheDir, address, newPort, treePageSize, upstream);
        }

        public Options withTreePageSize(int size) {
            return new Options(cacheDir, bind, port, size, upstream);
        }

        /**
         * Pulls misses through {@code endpoint} into the cache, with the token, timeouts and
         * retries of {@code base} (its cache folder and endpoints are replaced).
         */
        public Options withUpstream(URI endpoint, HubSettings.Builder base) {
            HubSettings settings =
                    base.cacheDir(cacheDir).endpoint(endpoint).offline(false).build();
            return new Options(cacheDir, bind, port, treePageSize, settings);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final Path cacheDir;

    private final MirrorUpstream upstream;

    private CacheMirrorServer(
            HttpServer server, ExecutorService executor, Path cacheDir, MirrorUpstream upstream) {
        this.server = server;
        this.executor = executor;
        this.cacheDir = cacheDir;
        this.upstream = upstream;
    }

    /**
     * Starts serving {@code options.cacheDir()}.
     *
     * @throws HubException {@link HubError#CacheNotFound} when the cache folder does not exist,
     *     {@link HubError#Io} when the address cannot be bound
     */
    public static CacheMirrorServer start(Options options) {
        if (options.upstream() != null) {
            createCacheFolder(options.cacheDir());
        }
        Path root = ScanWalker.realRoot(options.cacheDir());
        MirrorUpstream upstream = MirrorUpstream.NONE;
        if (options.upstream() != null) {
            System.Logger logger = System.getLogger(CacheMirrorServer.class.getName());
            upstream =
                    new HubClientUpstream(
                            new HubClient(options.upstream()),
                            line -> logger.log(System.Logger.Level.WARNING, line));
        }
        InetSocketAddress address = new InetSocketAddress(options.bind(), options.port());
        // The JDK server writes headers and body separately; without TCP_NODELAY, Nagle's algorithm
        // and the client's delayed ACK stall each small response by tens of milliseconds. The JDK
        // reads this property once, when its first server starts; a value set by the user stays.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        HttpServer server;
        try {
            server = HttpServer.create(address, 128);
        } catch (IOException e) {
            closeUpstream(upstream);
            throw new HubException(
                    HubError.Io,
                    String.format(
                            Locale.ROOT,
                            "cannot listen on %s: %s (is the port in use? --port 0 picks a free"
                                    + " one)",
                            address,
                            e.getMessage()),
                    e);
        }
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/", new MirrorHandler(root, upstream, options.treePageSize()));
        server.start();
        return new CacheMirrorServer(server, executor, root, upstream);
    }

    /** A pull-through mirror may start empty. */
    private static void createCacheFolder(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new HubException(
                    HubError.Io,
                    "cannot create the cache folder " + dir + ": " + e.getMessage(),
                    e);
        }
    }

    private static void closeUpstream(MirrorUpstream upstream) {
        if (upstream instanceof HubClientUpstream client) {
            client.close();
        }
    }

    /** The endpoint to give clients, e.g. {@code http://127.0.0.1:41234}. */
    public URI uri() {
        InetSocketAddress address = server.getAddress();
        InetAddress host = address.getAddress();
        String name =
                host.isAnyLocalAddress()
                        ? InetAddress.getLoopbackAddress().getHostAddress()
                        : host.getHostAddress();
        if (name.contains(":")) {
            name = "[" + name + "]";
        }
        return URI.create("http://" + name + ":" + address.getPort());
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The cache served, absolute with links resolved. */
    public Path cacheDir() {
        return cacheDir;
    }

    /**
     * Stops accepting requests, lets running ones finish for up to a second, and releases the port.
     */
    @Override
    public void close() {
        server.stop(1);
        executor.close();
        closeUpstream(upstream);
    }
}
