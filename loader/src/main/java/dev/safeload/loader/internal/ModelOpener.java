package dev.safeload.loader.internal;

import dev.safeload.loader.LoaderError;
import dev.safeload.loader.LoaderException;
import dev.safeload.loader.ResolvedModel;
import dev.safeload.safetensors.ReadOptions;
import dev.safeload.safetensors.SafetensorsModel;

import java.util.Locale;

/**
 * The open stage: maps (or opens for pread) every file of a resolved model and validates every
 * header. A location that is not on a filesystem is opened by the store for its scheme; without one
 * installed it is refused with the artifact to add (docs/DESIGN.md, the object-store module).
 */
public final class ModelOpener {
    private ModelOpener() {}

    /** Opens the model; the caller closes it. */
    public static SafetensorsModel open(ResolvedModel resolved, ReadOptions options) {
        return resolved.localPath()
                .map(path -> SafetensorsModel.open(path, options))
                .orElseThrow(() -> unsupported(resolved));
    }

    private static LoaderException unsupported(ResolvedModel resolved) {
        String scheme = resolved.location().getScheme().toLowerCase(Locale.ROOT);
        String hint =
                scheme.equals("s3")
                        ? "add the artifact dev.safeload:safeload-object-store to the class path"
                        : "use a local path, a repo id, or an s3:// location with"
                                + " dev.safeload:safeload-object-store on the class path";
        return new LoaderException(
                LoaderError.UnsupportedLocation,
                "no installed store reads "
                        + scheme
                        + ":// locations ("
                        + resolved.location()
                        + "); "
                        + hint);
    }
}
