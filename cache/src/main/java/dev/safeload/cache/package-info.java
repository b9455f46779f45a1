/**
 * The Hugging Face hub cache, byte-compatible with huggingface_hub's (docs/hub.md): download into
 * it, read it, maintain it, serve it.
 *
 * <ul>
 *   <li>{@link dev.safeload.cache.HubClient} downloads files and snapshots into the cache, from the
 *       hub or mirrors configured by {@link dev.safeload.cache.HubSettings}, and answers from the
 *       cache alone when offline.
 *   <li>{@link dev.safeload.cache.CacheScanner}, {@link dev.safeload.cache.CacheCleaner}, {@link
 *       dev.safeload.cache.CacheVerifier} and {@link dev.safeload.cache.CacheDeduper} read and
 *       maintain a cache; {@link dev.safeload.cache.CacheImporter} publishes a local folder into
 *       one.
 *   <li>{@link dev.safeload.cache.CacheMirrorServer} serves a cache as a hub endpoint.
 * </ul>
 *
 * <p>Ownership: {@code HubClient} and {@code CacheMirrorServer} hold connections, threads or a port
 * and are closed by whoever made them; every other type is a stateless helper or an immutable
 * value. Files in the cache belong to the cache: paths handed out stay valid until the cache is
 * cleaned. Several processes may use one cache at once. Failures are {@link
 * dev.safeload.cache.HubException}s with a {@link dev.safeload.cache.HubError} kind.
 */
package dev.safeload.cache;
