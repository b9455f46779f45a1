package dev.safeload.cli;

import dev.safeload.cache.CacheMirrorServer;
import dev.safeload.cache.HubSettings;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.net.URI;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code safeload serve}: a hub cache as a hub endpoint. */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Serves a hub cache as a hub endpoint: point clients at it with"
                    + " HF_ENDPOINT=http://HOST:PORT.",
            "The first line printed is 'serving DIR at URL'. Runs until interrupted."
        })
final class ServeCommand implements Callable<Integer> {
    @Mixin HubCacheOption cache;

    @Option(
            names = "--upstream",
            paramLabel = "URL",
            description = "Pull what the cache lacks from this endpoint and cache it.")
    String upstream;

    @Option(
            names = "--bind",
            paramLabel = "ADDR",
            defaultValue = "127.0.0.1",
            description =
                    "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for every"
                            + " interface).")
    String bind;

    @Option(
            names = "--port",
            paramLabel = "N",
            defaultValue = "8080",
            description = "Port to listen on (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Override
    public Integer call() throws Exception {
        CacheMirrorServer.Options options =
                new CacheMirrorServer.Options(cache.resolve())
                        .withBind(InetAddress.getByName(bind), port);
        if (upstream != null) {
            options = options.withUpstream(URI.create(upstream), HubSettings.builder());
        }
        CacheMirrorServer server = CacheMirrorServer.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    server.close();
                                    stopped.countDown();
                                }));
        System.out.println("serving " + server.cacheDir() + " at " + server.uri());
        System.out.flush();
        stopped.await();
        return 0;
    }
}
