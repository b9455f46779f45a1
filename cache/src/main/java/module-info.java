/**
 * The Hugging Face hub cache: resolver, downloader, snapshot download, cache tools, mirror server.
 */
module dev.safeload.cache {
    requires transitive dev.safeload.safetensors;
    requires com.fasterxml.jackson.databind;
    requires java.net.http;
    requires jdk.httpserver;

    exports dev.safeload.cache;
}
