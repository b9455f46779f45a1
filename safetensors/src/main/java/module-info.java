/** The safetensors format: readers, validation, dtypes, views, slices, sharded indexes, writer. */
module dev.safeload.safetensors {
    requires com.fasterxml.jackson.core;

    exports dev.safeload;
    exports dev.safeload.safetensors;
}
