package dev.safeload.cache.internal;

import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;
import dev.safeload.cache.HubSettings;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads huggingface_hub's environment variables the way its {@code constants.py} does (docs/hub.md
 * §4). An empty value counts as unset, unlike Python's {@code os.getenv}, where an empty {@code
 * HF_HUB_CACHE} silently means the current directory.
 */
public final class EnvironmentSettings {
    private static final System.Logger LOG = System.getLogger("dev.safeload.cache");
    private static final AtomicBoolean LEGACY_NOTICE_SHOWN = new AtomicBoolean();
    private static final Pattern VARIABLE = Pattern.compile("\\$(\\w+)|\\$\\{(\\w+)}");
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private final Map<String, String> env;

    public EnvironmentSettings(Map<String, String> env) {
        this.env = env;
    }

    private String get(String name) {
        String value = env.get(name);
        return value == null || value.isEmpty() ? null : value;
    }

    /**
     * {@code HF_HOME}, else {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}.
     */
    public Path hfHome() {
        String home = get("HF_HOME");
        if (home != null) {
            return expand(home);
        }
        String xdg = get("XDG_CACHE_HOME");
        return (xdg != null ? expand(xdg) : userHome().resolve(".cache")).resolve("huggingface");
    }

    /**
     * The hub cache. {@code TRANSFORMERS_CACHE} is not read by huggingface_hub at all, but
     * transformers v4 users set it to move their models; it is honoured only when no hub variable
     * says otherwise, with a one-time notice so that the two clients can be brought to agree.
     */
    public Path hubCache(Path hfHomeOverride) {
        if (hfHomeOverride != null) {
            return hfHomeOverride.resolve("hub");
        }
        String legacy = get("TRANSFORMERS_CACHE");
        for (String name : List.of("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")) {
            String value = get(name);
            if (value != null) {
                legacyNotice(legacy, "ignored because " + name + " is set");
                return expand(value);
            }
        }
        if (get("HF_HOME") != null) {
            legacyNotice(legacy, "ignored because HF_HOME is set");
            return hfHome().resolve("hub");
        }
        if (legacy != null) {
            legacyNotice(
                    legacy, "used as the hub cache because HF_HUB_CACHE and HF_HOME are unset");
            return expand(legacy);
        }
        return hfHome().resolve("hub");
    }

    private static void legacyNotice(String legacy, String what) {
        if (legacy != null && LEGACY_NOTICE_SHOWN.compareAndSet(false, true)) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    String.format(
                            Locale.ROOT,
                            "TRANSFORMERS_CACHE=%s is deprecated (transformers v4) and %s;"
                                + " huggingface_hub never reads it. Set HF_HUB_CACHE (or HF_HOME)"
                                + " instead so that Python and safeload share one cache.",
                            legacy,
                            what));
        }
    }

    /**
     * {@code SAFELOAD_HF_ENDPOINTS} (comma-separated, in order), else {@code HF_ENDPOINT}, else
     * huggingface.co.
     */
    public List<URI> endpoints() {
        String list = get("SAFELOAD_HF_ENDPOINTS");
        List<URI> result = new ArrayList<>();
        if (list != null) {
            for (String item : list.split(",")) {
                if (!item.isBlank()) {
                    result.add(uri("SAFELOAD_HF_ENDPOINTS", item.strip()));
                }
            }
        }
        String single = get("HF_ENDPOINT");
        if (result.isEmpty() && single != null) {
            result.add(uri("HF_ENDPOINT", single.strip()));
        }
        if (result.isEmpty()) {
            result.add(HubSettings.DEFAULT_ENDPOINT);
        }
        return result;
    }

    private static URI uri(String variable, String text) {
        try {
            return new URI(text);
        } catch (java.net.URISyntaxException e) {
            throw new HubException(
                    HubError.InvalidSettings,
                    variable + "='" + text + "' is not a URL: " + e.getMessage(),
                    e);
        }
    }

    /**
     * {@code SSL_CERT_FILE}, else {@code SSL_CERT_DIR}, as huggingface_hub's HTTP client reads
     * them; {@code null} when neither is set.
     */
    public Path trustedCertificates() {
        for (String name : List.of("SSL_CERT_FILE", "SSL_CERT_DIR")) {
            String value = get(name);
            if (value != null) {
                return expand(value);
            }
        }
        return null;
    }

    /** {@code HF_HUB_OFFLINE} or {@code TRANSFORMERS_OFFLINE}. */
    public boolean offline() {
        return flag("HF_HUB_OFFLINE") || flag("TRANSFORMERS_OFFLINE");
    }

    /** huggingface_hub's {@code _is_true}: 1, ON, YES or TRUE in any case. */
    public boolean flag(String name) {
        String value = get(name);
        return value != null
                && List.of("1", "ON", "YES", "TRUE")
                        .contains(value.strip().toUpperCase(Locale.ROOT));
    }

    /**
     * An integer number of seconds; 0 or unset means the default of 10 s (as {@code constants.py}).
     */
    public Duration seconds(String name) {
        String value = get(name);
        if (value == null) {
            return DEFAULT_TIMEOUT;
        }
        try {
            long seconds = Long.parseLong(value.strip());
            if (seconds < 0) {
                throw new NumberFormatException("negative");
            }
            return seconds == 0 ? DEFAULT_TIMEOUT : Duration.ofSeconds(seconds);
        } catch (NumberFormatException e) {
            throw new HubException(
                    HubError.InvalidSettings,
                    name
                            + "='"
                            + value
                            + "' is not a whole number of seconds (for example 10, or 86400 for a"
                            + " slow proxy)");
        }
    }

    /** A positive whole number, or {@code fallback} when unset. */
    public int count(String name, int fallback) {
        String value = get(name);
        if (value == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value.strip());
            if (n < 1) {
                throw new NumberFormatException("not positive");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new HubException(
                    HubError.InvalidSettings,
                    name + "='" + value + "' is not a whole number of at least 1 (for example 4)");
        }
    }

    /**
     * The implicit token: {@code HF_TOKEN}, {@code HUGGING_FACE_HUB_TOKEN}, then the token file;
     * none at all when {@code HF_HUB_DISABLE_IMPLICIT_TOKEN} is set.
     */
    public String token(Path hfHome) {
        if (flag("HF_HUB_DISABLE_IMPLICIT_TOKEN")) {
            return null;
        }
        for (String name : List.of("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")) {
            String value = cleanToken(get(name));
            if (value != null) {
                return value;
            }
        }
        String pathText = get("HF_TOKEN_PATH");
        Path file = pathText != null ? expand(pathText) : hfHome.resolve("token");
        try {
            return Files.isRegularFile(file)
                    ? cleanToken(Files.readString(file, StandardCharsets.UTF_8))
                    : null;
        } catch (IOException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "cannot read the token file " + file + ": " + e.getMessage());
            return null;
        }
    }

    /**
     * As huggingface_hub's {@code _clean_token}: CR and LF removed, whitespace stripped, empty
     * means none.
     */
    public static String cleanToken(String token) {
        if (token == null) {
            return null;
        }
        String cleaned = token.replace("\r", "").replace("\n", "").strip();
        return cleaned.isEmpty() ? null : cleaned;
    }

    /**
     * {@code os.path.expanduser(os.path.expandvars(...))}: unknown variables are left as written.
     */
    private Path expand(String value) {
        Matcher m = VARIABLE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            String replacement = env.get(name);
            m.appendReplacement(
                    out, Matcher.quoteReplacement(replacement != null ? replacement : m.group()));
        }
        m.appendTail(out);
        String text = out.toString();
        if (text.equals("~")) {
            return userHome();
        }
        if (text.startsWith("~/")) {
            return userHome().resolve(text.substring(2));
        }
        return Path.of(text);
    }

    private Path userHome() {
        String home = get("HOME");
        return Path.of(home != null ? home : System.getProperty("user.home"));
    }
}
