package dev.safeload.cache.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made by the JDK's {@code keytool} in a
 * folder of the test's, for loopback HTTPS servers; {@link #certificatePem()} is the file a client
 * trusts (as with {@code SSL_CERT_FILE}).
 */
public final class TestTls {
    private static final char[] PASSWORD = "changeit".toCharArray();

    private final Path keyStore;
    private final Path certificatePem;

    private TestTls(Path keyStore, Path certificatePem) {
        this.keyStore = keyStore;
        this.certificatePem = certificatePem;
    }

    /** Makes the key pair and certificate under {@code dir}. */
    public static TestTls create(Path dir) {
        try {
            Files.createDirectories(dir);
            Path store = dir.resolve("server.p12");
            Path pem = dir.resolve("server.pem");
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            run(
                    List.of(
                            keytool,
                            "-genkeypair",
                            "-alias",
                            "hub",
                            "-keyalg",
                            "EC",
                            "-groupname",
                            "secp256r1",
                            "-dname",
                            "CN=localhost",
                            "-ext",
                            "SAN=ip:127.0.0.1,dns:localhost",
                            "-validity",
                            "2",
                            "-keystore",
                            store.toString(),
                            "-storetype",
                            "PKCS12",
                            "-storepass",
                            new String(PASSWORD)));
            run(
                    List.of(
                            keytool,
                            "-exportcert",
                            "-rfc",
                            "-alias",
                            "hub",
                            "-keystore",
                            store.toString(),
                            "-storepass",
                            new String(PASSWORD),
                            "-file",
                            pem.toString()));
            return new TestTls(store, pem);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The PEM file of the certificate (what a client should trust). */
    public Path certificatePem() {
        return certificatePem;
    }

    /** The server side: a context that presents the certificate. */
    public SSLContext serverContext() {
        try (InputStream in = Files.newInputStream(keyStore)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, PASSWORD);
            KeyManagerFactory keys =
                    KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, PASSWORD);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (p.waitFor() != 0) {
                throw new IOException("keytool failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
