package dev.safeload.loader;

/**
 * The stages of a load, in order. Each can be run on its own ({@link ModelLoader#resolve}, {@link
 * ModelLoader#open}, {@link ModelLoader#place}, {@link LoadedModel#merge}), so a caller can put its
 * own step between them.
 */
public enum LoadStage {
    /** Find the files: the hub cache (downloading what is missing), a local path, a store. */
    RESOLVE("resolve", "resolve"),
    /** Open every file and validate every header. */
    OPEN("open", "open and validate"),
    /** Copy every tensor once from the files into memory the model owns, on its device. */
    PLACE("place", "place"),
    /** Merge adapters into the placed weights, or load them into a pool. */
    ADAPTERS("adapters", "adapters");

    private final String id;
    private final String label;

    LoadStage(String id, String label) {
        this.id = id;
        this.label = label;
    }

    /**
     * The stage's name in machine-readable reports ({@code safeload load --json}).
     *
     * @return {@code resolve}, {@code open}, {@code place} or {@code adapters}
     */
    public String id() {
        return id;
    }

    /**
     * The stage's name for people.
     *
     * @return for example {@code open and validate}
     */
    public String label() {
        return label;
    }
}
