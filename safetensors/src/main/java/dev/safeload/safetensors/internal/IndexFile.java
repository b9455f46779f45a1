package dev.safeload.safetensors.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

import dev.safeload.safetensors.SafetensorsError;
import dev.safeload.safetensors.SafetensorsException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A sharded model's {@code *.safetensors.index.json}: {@code {"metadata": {...}, "weight_map":
 * {tensor: shard file}}}. Shard names are checked the way huggingface_hub's loader checks them
 * (read as Windows paths too: no drive, no root, no {@code ..} component, must end in {@code
 * .safetensors}), so an index cannot point outside its folder.
 *
 * @param weightMap tensor name to shard file name, in document order
 */
public record IndexFile(Map<String, String> weightMap) {
    /** Index files are small; this bounds what a hostile one can make us read. */
    public static final long MAX_INDEX_BYTES = 100_000_000L;

    private static final JsonFactory FACTORY =
            JsonFactory.builder()
                    .streamReadConstraints(
                            StreamReadConstraints.builder().maxNestingDepth(127).build())
                    .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
                    .build();

    public static IndexFile read(Path index) {
        byte[] bytes;
        try {
            long size = Files.size(index);
            if (size > MAX_INDEX_BYTES) {
                throw invalid(
                        index, "the file has " + size + " bytes, more than " + MAX_INDEX_BYTES);
            }
            bytes = Files.readAllBytes(index);
        } catch (IOException e) {
            throw new SafetensorsException(
                    SafetensorsError.Io, "cannot read " + index + ": " + e, e);
        }
        Map<String, String> map = null;
        try (JsonParser p = FACTORY.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw invalid(index, "not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (!field.equals("weight_map")) {
                    p.skipChildren(); // "metadata" is an open map (total_size,
                    // total_parameters, ...)
                    continue;
                }
                if (map != null) {
                    throw invalid(index, "duplicate `weight_map`");
                }
                if (t != JsonToken.START_OBJECT) {
                    throw invalid(index, "`weight_map` is not an object");
                }
                map = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String tensor = p.currentName();
                    if (p.nextToken() != JsonToken.VALUE_STRING) {
                        throw invalid(
                                index,
                                "the shard of tensor " + Names.quote(tensor) + " is not a string");
                    }
                    String shard = p.getText();
                    checkShardName(index, tensor, shard);
                    if (map.put(tensor, shard) != null) {
                        throw invalid(
                                index,
                                "tensor "
                                        + Names.quote(tensor)
                                        + " is listed twice in `weight_map`");
                    }
                }
            }
            if (p.nextToken() != null) {
                throw invalid(index, "trailing content after the JSON object");
            }
        } catch (JsonProcessingException e) {
            throw invalid(index, "malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new SafetensorsException(
                    SafetensorsError.Io, "cannot parse " + index + ": " + e, e);
        }
        if (map == null) {
            throw invalid(index, "no `weight_map`");
        }
        return new IndexFile(map);
    }

    /** Refuses names that leave the folder, lexically, on POSIX and Windows alike. */
    static void checkShardName(Path index, String tensor, String shard) {
        String why = null;
        if (shard.isEmpty()) {
            why = "is empty";
        } else if (shard.startsWith("/") || shard.startsWith("\\")) {
            why = "is an absolute path";
        } else if (shard.length() >= 2 && shard.charAt(1) == ':') {
            why = "has a drive letter";
        } else if (shard.indexOf('\0') >= 0) {
            why = "contains a NUL character";
        } else if (!shard.endsWith(".safetensors")) {
            why = "does not end in .safetensors";
        } else {
            for (String part : shard.split("[/\\\\]")) {
                if (part.equals("..")) {
                    why = "has a `..` component";
                    break;
                }
            }
        }
        if (why != null) {
            throw invalid(
                    index,
                    String.format(
                            Locale.ROOT,
                            "shard %s of tensor %s %s; shards must be files inside the index's"
                                    + " folder",
                            Names.quote(shard),
                            Names.quote(tensor),
                            why));
        }
    }

    private static SafetensorsException invalid(Path index, String what) {
        return new SafetensorsException(
                SafetensorsError.InvalidIndex, "invalid index " + index + ": " + what);
    }
}
