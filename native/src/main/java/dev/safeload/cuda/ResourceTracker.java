package dev.safeload.cuda;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Knows every native resource (device buffer, pinned buffer, stream, event, cuBLAS handle) that is
 * open, and, when leak detection is on, reports those that became unreachable without being closed,
 * with the stack where they were allocated (the shape of netty's ResourceLeakDetector,
 * docs/DESIGN.md "Native resources"). Reporting is all it does: freeing device memory from the
 * Cleaner's thread could free memory that a user's JCuda code still addresses through a copied
 * pointer, so a leak stays a visible bug rather than a silent fix.
 */
final class ResourceTracker {
    /** System property that turns on allocation-site capture and Cleaner-based leak reports. */
    public static final String PROPERTY = "safeload.cuda.leakDetection";

    private static final System.Logger LOG = System.getLogger("dev.safeload.cuda.leaks");
    private static final Cleaner CLEANER = Cleaner.create();
    private static final AtomicLong IDS = new AtomicLong();
    private static final Map<Long, String> OPEN = new ConcurrentHashMap<>();
    private static final List<String> REPORTED = new CopyOnWriteArrayList<>();

    private ResourceTracker() {}

    /** Whether leak detection is on ({@code -Dsafeload.cuda.leakDetection=true}). */
    public static boolean enabled() {
        String value = System.getProperty(PROPERTY, "false").trim().toLowerCase(Locale.ROOT);
        return !(value.isEmpty()
                || value.equals("false")
                || value.equals("off")
                || value.equals("disabled"));
    }

    /**
     * Starts tracking {@code owner}, described by {@code description} (for example {@code
     * "DeviceBuffer(1024 bytes)"}). The owner must call {@link Registration#release()} when it
     * closes the resource.
     */
    public static Registration track(Object owner, String description) {
        long id = IDS.incrementAndGet();
        OPEN.put(id, description);
        LeakCheck check =
                new LeakCheck(id, description, enabled() ? new Throwable("allocated here") : null);
        Cleaner.Cleanable cleanable = check.site == null ? null : CLEANER.register(owner, check);
        return new Registration(check, cleanable);
    }

    /** Descriptions of the resources open now. */
    public static List<String> open() {
        return new ArrayList<>(OPEN.values());
    }

    /** The leak reports made so far (resources collected while still open). */
    public static List<String> reported() {
        return List.copyOf(REPORTED);
    }

    /** Forgets the reports made so far (tests call it before the code they check). */
    public static void clearReported() {
        REPORTED.clear();
    }

    /** The handle an owner keeps to say "closed". */
    public static final class Registration {
        private final LeakCheck check;
        private final Cleaner.Cleanable cleanable;

        private Registration(LeakCheck check, Cleaner.Cleanable cleanable) {
            this.check = check;
            this.cleanable = cleanable;
        }

        /** The resource was closed: it is no longer open and can never be reported as leaked. */
        public void release() {
            check.released.set(true);
            OPEN.remove(check.id);
            if (cleanable != null) {
                cleanable.clean();
            }
        }
    }

    /**
     * The Cleaner action; it must not reference the owner, or the owner never becomes unreachable.
     */
    private record LeakCheck(long id, String description, Throwable site, AtomicBoolean released)
            implements Runnable {
        LeakCheck(long id, String description, Throwable site) {
            this(id, description, site, new AtomicBoolean());
        }

        @Override
        public void run() {
            if (released.get()) {
                return;
            }
            OPEN.remove(id);
            StringWriter trace = new StringWriter();
            site.printStackTrace(new PrintWriter(trace));
            String report = "LEAK: " + description + " was never closed; " + trace;
            REPORTED.add(report);
            LOG.log(System.Logger.Level.WARNING, report);
        }
    }
}
