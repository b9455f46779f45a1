package dev.safeload;

/**
 * Runs every release step of a teardown even when one of them fails: the first failure is kept and
 * thrown at the end, later ones are added to it as suppressed (the rule try-with-resources applies,
 * JLS 14.20.3), so one failing {@code close()} never leaves the resources after it allocated.
 *
 * <p>Every safeload module that owns several native resources tears them down with it, so the rule
 * lives here, in the package all modules share. One instance serves one teardown on one thread; it
 * owns nothing itself.
 *
 * {@snippet :
 * new Cleanup().close(stream, scratch, arena).rethrow();
 * }
 */
public final class Cleanup {
    private Throwable failure;

    /** A teardown with nothing failed yet. */
    public Cleanup() {}

    /**
     * A teardown after {@code failure} (a {@link RuntimeException} or an {@link Error}): later
     * failures are added to it, and {@link #rethrow()} throws it.
     */
    public Cleanup(Throwable failure) {
        if (!(failure instanceof RuntimeException) && !(failure instanceof Error)) {
            throw new IllegalArgumentException(
                    "a teardown carries unchecked failures only", failure);
        }
        this.failure = failure;
    }

    /** Runs {@code step}, keeping its failure. */
    public Cleanup run(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            } else if (failure != e) {
                failure.addSuppressed(e);
            }
        }
        return this;
    }

    /** Closes each non-null resource, keeping their failures. */
    public Cleanup close(AutoCloseable... resources) {
        for (AutoCloseable r : resources) {
            if (r != null) {
                run(() -> closeUnchecked(r));
            }
        }
        return this;
    }

    /**
     * Throws the first failure, with the later ones suppressed in it; returns if nothing failed.
     */
    public void rethrow() {
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }

    private static void closeUnchecked(AutoCloseable r) {
        try {
            r.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("closing " + r + " failed", e);
        }
    }
}
