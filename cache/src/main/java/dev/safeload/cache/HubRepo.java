package dev.safeload.cache;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A repository on the hub: its type and its id ({@code name} or {@code org/name}).
 *
 * <p>The id becomes a cache folder name and part of every URL, so it is checked here against the
 * hub's own rule (letters, digits, {@code - _ .}, at most one {@code /}, no {@code --} or {@code
 * ..}, no {@code -} or {@code .} at either end of a part); anything else could escape the cache
 * root or name another repo's folder.
 *
 * @param type the repository's type
 * @param id the repository id, {@code name} or {@code org/name}
 */
public record HubRepo(RepoType type, String id) {
    private static final Pattern PART =
            Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9._-]*[A-Za-z0-9_])?");

    /**
     * Checks the id.
     *
     * @throws HubException of kind {@link HubError#UnsafePath} if the id breaks the hub's rule
     */
    public HubRepo {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(id, "id");
        String[] parts = id.split("/", -1);
        boolean valid = parts.length <= 2 && !id.contains("--") && !id.contains("..");
        for (String part : parts) {
            valid &= PART.matcher(part).matches();
        }
        if (!valid || id.length() > 200) {
            throw new HubException(
                    HubError.UnsafePath,
                    String.format(
                            java.util.Locale.ROOT,
                            "invalid repo id '%s': expected 'name' or 'org/name' made of letters,"
                                    + " digits, '-', '_', '.' (no '--' or '..')",
                            id.replace("\0", "\\0")));
        }
    }

    /**
     * A model repository.
     *
     * @param id {@code name} or {@code org/name}
     * @return the repository
     * @throws HubException of kind {@link HubError#UnsafePath} if the id is invalid
     */
    public static HubRepo model(String id) {
        return new HubRepo(RepoType.MODEL, id);
    }

    /**
     * A dataset repository.
     *
     * @param id {@code name} or {@code org/name}
     * @return the repository
     * @throws HubException of kind {@link HubError#UnsafePath} if the id is invalid
     */
    public static HubRepo dataset(String id) {
        return new HubRepo(RepoType.DATASET, id);
    }

    /**
     * Where this repo lives inside a hub cache.
     *
     * @param root the hub cache root
     * @return the repository's paths below {@code root}
     */
    public RepoCacheLayout layout(Path root) {
        return new RepoCacheLayout(root, type, id);
    }

    /**
     * URL prefix of the repo below an endpoint: {@code org/name}, {@code datasets/org/name}, {@code
     * spaces/org/name}.
     *
     * @return the path that follows the endpoint in the hub's URLs
     */
    public String urlPath() {
        return type == RepoType.MODEL ? id : type.id() + "s/" + id;
    }

    /**
     * For messages: the type and the id, {@code model org/name}.
     *
     * @return for example {@code model org/name}
     */
    @Override
    public String toString() {
        return type.id() + " " + id;
    }
}
