package dev.safeload.cuda;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What every native resource made from a {@link CudaContext} shares: one owner, an idempotent
 * {@link #close()} that runs the driver's destroy call with the context current on the closing
 * thread, a reference on the context until then, and a place in the {@link LeakDetector}.
 */
abstract class ContextResource implements AutoCloseable {
    final CudaContext context;
    private final AtomicBoolean closed = new AtomicBoolean();
    private ResourceTracker.Registration registration;

    ContextResource(CudaContext context) {
        this.context = context;
    }

    /** Takes a reference on the context; called once the native resource exists. */
    final void register(String description) {
        registration = context.retain(this, description);
    }

    /** The context this resource belongs to. */
    public final CudaContext context() {
        return context;
    }

    final boolean isClosed() {
        return closed.get();
    }

    final void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    /** Releases the native resource; runs once, with the context current. */
    abstract void destroy();

    /** Releases the resource. Idempotent; later uses throw {@link IllegalStateException}. */
    @Override
    public final void close() {
        if (!closed.compareAndSet(false, true) || registration == null) {
            return;
        }
        try {
            context.bind();
            destroy();
        } finally {
            context.release(registration);
        }
    }
}
