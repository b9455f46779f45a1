package dev.safeload.cache.internal;

import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A TLS context that trusts exactly the certificates of a PEM bundle or of a folder of PEM files,
 * for {@code SSL_CERT_FILE} / {@code SSL_CERT_DIR} (docs/hub.md §2.10): a proxy that inspects TLS
 * signs with the company's own authority, and Python's clients trust it through these variables.
 * The context belongs to one HTTP client; the JVM's default trust is left alone.
 */
public final class TrustedCertificates {
    private static final Pattern PEM =
            Pattern.compile(
                    "-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\\s]+?)-----END CERTIFICATE-----");

    private TrustedCertificates() {}

    /** The context for {@code source}, a PEM file or a folder whose files hold PEM blocks. */
    public static SSLContext sslContext(Path source) {
        List<Certificate> certificates = new ArrayList<>();
        try {
            if (Files.isDirectory(source)) {
                try (Stream<Path> files = Files.list(source)) {
                    for (Path file : files.sorted().toList()) {
                        if (Files.isRegularFile(file)) {
                            certificates.addAll(read(file));
                        }
                    }
                }
            } else {
                certificates.addAll(read(source));
            }
        } catch (IOException e) {
            throw new HubException(
                    HubError.InvalidSettings,
                    "cannot read the trusted certificates "
                            + source
                            + " (SSL_CERT_FILE or SSL_CERT_DIR): "
                            + e.getMessage(),
                    e);
        }
        if (certificates.isEmpty()) {
            throw new HubException(
                    HubError.InvalidSettings,
                    source
                            + " (SSL_CERT_FILE or SSL_CERT_DIR) holds no PEM certificate"
                            + " (-----BEGIN CERTIFICATE----- blocks)");
        }
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < certificates.size(); i++) {
                store.setCertificateEntry("ca-" + i, certificates.get(i));
            }
            TrustManagerFactory trust =
                    TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new HubException(
                    HubError.InvalidSettings,
                    "cannot use the certificates of " + source + ": " + e.getMessage(),
                    e);
        }
    }

    private static List<Certificate> read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.ISO_8859_1);
        List<Certificate> out = new ArrayList<>();
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            byte[] der = Base64.getMimeDecoder().decode(m.group(1));
            try {
                out.add(
                        CertificateFactory.getInstance("X.509")
                                .generateCertificate(new ByteArrayInputStream(der)));
            } catch (CertificateException e) {
                throw new IOException(
                        "a certificate in " + file + " cannot be parsed: " + e.getMessage(), e);
            }
        }
        return out;
    }
}
