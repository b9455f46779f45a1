package dev.safeload.safetensors.internal;

import static dev.safeload.safetensors.SafetensorsError.HeaderTooLarge;
import static dev.safeload.safetensors.SafetensorsError.HeaderTooSmall;
import static dev.safeload.safetensors.SafetensorsError.InvalidHeader;
import static dev.safeload.safetensors.SafetensorsError.InvalidHeaderDeserialization;
import static dev.safeload.safetensors.SafetensorsError.InvalidHeaderLength;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsException;
import dev.safeload.safetensors.SafetensorsHeader;
import dev.safeload.safetensors.SafetensorsLimits;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads and validates a safetensors header with the reference reader's rules, in its order ({@code
 * read_metadata} in {@code safetensors/src/tensor.rs}): HeaderTooSmall, HeaderTooLarge,
 * InvalidHeaderLength, InvalidHeader (UTF-8), InvalidHeaderDeserialization (JSON and its shape),
 * then per tensor in offset order ({@link HeaderValidator}), then MetadataIncompleteBuffer.
 *
 * <p>The JSON is parsed with Jackson's streaming parser, configured and checked to accept what
 * serde_json (the reference's parser) accepts: see {@link #parseJson}. Nothing is allocated from a
 * length field before that field has been checked against the limits and the file size.
 */
public final class HeaderParser {
    /** Key of the optional metadata map (reference: {@code #[serde(rename = "__metadata__")]}). */
    public static final String METADATA_KEY = "__metadata__";

    private static final ValueLayout.OfLong U64_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final JsonFactory DEFAULT_FACTORY = factory(SafetensorsLimits.DEFAULT);

    private HeaderParser() {}

    /** Where header bytes come from: a mapped or in-memory file, or positional reads. */
    public interface Source {
        /** Fills {@code dst} with the bytes at absolute {@code position}. */
        void read(long position, byte[] dst) throws IOException;
    }

    /** Parses a whole file held in (or mapped into) memory. */
    public static SafetensorsHeader parse(MemorySegment file, SafetensorsLimits limits) {
        try {
            return parse(
                    (position, dst) ->
                            MemorySegment.copy(
                                    file, ValueLayout.JAVA_BYTE, position, dst, 0, dst.length),
                    file.byteSize(),
                    limits);
        } catch (IOException e) {
            throw new AssertionError("memory reads do not throw IOException", e);
        }
    }

    /** Parses the header of a file of {@code fileSize} bytes read through {@code source}. */
    public static SafetensorsHeader parse(Source source, long fileSize, SafetensorsLimits limits)
            throws IOException {
        if (fileSize < 8) {
            throw new SafetensorsException(
                    HeaderTooSmall,
                    String.format(
                            Locale.ROOT,
                            "header too small: the file has %d bytes, fewer than the 8-byte length"
                                    + " prefix",
                            fileSize));
        }
        byte[] prefix = new byte[8];
        source.read(0, prefix);
        long n = MemorySegment.ofArray(prefix).get(U64_LE, 0);
        // N is a u64; negative here means above 2^63 - 1, which no file can satisfy either.
        if (n < 0 || n > limits.maxHeaderBytes()) {
            throw new SafetensorsException(
                    HeaderTooLarge,
                    String.format(
                            Locale.ROOT,
                            "header too large: the length field says %s bytes, above the limit of"
                                + " %d (SafetensorsLimits.maxHeaderBytes; a corrupt file or a Git"
                                + " LFS pointer often looks like this)",
                            Long.toUnsignedString(n),
                            limits.maxHeaderBytes()));
        }
        if (8 + n > fileSize) {
            throw new SafetensorsException(
                    InvalidHeaderLength,
                    String.format(
                            Locale.ROOT,
                            "invalid header length: the length field says %d bytes but the file has"
                                    + " only %d after the 8-byte prefix",
                            n,
                            fileSize - 8));
        }
        // Safe to allocate: n <= limits.maxHeaderBytes() (an int) and n <= fileSize - 8.
        byte[] json = new byte[(int) n];
        source.read(8, json);
        int bad = Utf8.firstInvalid(json, 0, json.length);
        if (bad >= 0) {
            throw new SafetensorsException(
                    InvalidHeader,
                    String.format(
                            Locale.ROOT,
                            "invalid UTF-8 in header at byte %d of %d (byte 0x%02X)",
                            bad,
                            json.length,
                            json[bad] & 0xFF));
        }
        RawHeader raw = parseJson(json, limits);
        return HeaderValidator.validate(raw, n, fileSize);
    }

    /**
     * One tensor entry as parsed, before the offset checks; dims and offsets are u64 bit patterns.
     */
    record RawTensor(String name, DType dtype, long[] shape, long begin, long end) {}

    /** The parsed JSON: metadata (null when absent or JSON null) and tensors in document order. */
    record RawHeader(Map<String, String> metadata, List<RawTensor> tensors) {}

    static JsonFactory factory(SafetensorsLimits limits) {
        StreamReadConstraints constraints =
                StreamReadConstraints.builder()
                        // serde_json fails when the depth reaches its limit (128 allows 127
                        // levels);
                        // Jackson fails when the depth exceeds its limit.
                        .maxNestingDepth(limits.maxJsonDepth() - 1)
                        // serde_json has no string, name or number length limits; the header size
                        // bounds them.
                        .maxStringLength(Integer.MAX_VALUE)
                        .maxNameLength(Integer.MAX_VALUE)
                        .maxNumberLength(Integer.MAX_VALUE)
                        .build();
        return JsonFactory.builder()
                .streamReadConstraints(constraints)
                // Tensor names are unique strings: interning them fills Jackson's symbol table,
                // whose hash-flood guard would then refuse a valid header.
                .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
                .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
                .build();
    }

    /**
     * Parses the header JSON. Jackson's defaults already refuse what serde_json refuses (comments,
     * trailing commas, NaN, leading zeros, single quotes, unescaped control characters); the
     * remaining differences are closed here: a UTF-8 BOM (Jackson skips it), encoding
     * auto-detection (Jackson guesses UTF-16/32 from NUL bytes), lone surrogate escapes (Jackson
     * keeps them), numbers out of f64 range (Jackson returns infinity), {@code -0} where an integer
     * is expected (serde_json reads it as a float), and trailing content.
     */
    static RawHeader parseJson(byte[] json, SafetensorsLimits limits) {
        if (json.length >= 3
                && (json[0] & 0xFF) == 0xEF
                && (json[1] & 0xFF) == 0xBB
                && (json[2] & 0xFF) == 0xBF) {
            throw jsonError("a byte order mark is not JSON whitespace", 0);
        }
        for (int i = 0; i < Math.min(4, json.length); i++) {
            if (json[i] == 0) {
                throw jsonError("control character (\\u0000) in header", i);
            }
        }
        JsonFactory f =
                limits.maxJsonDepth() == SafetensorsLimits.DEFAULT.maxJsonDepth()
                        ? DEFAULT_FACTORY
                        : factory(limits);
        try (JsonParser p = f.createParser(json)) {
            return new JsonReader(p, limits).readHeader();
        } catch (JsonProcessingException e) {
            long offset = e.getLocation() == null ? -1 : e.getLocation().getByteOffset();
            throw jsonError(oneLine(e.getOriginalMessage()), offset);
        } catch (IOException e) {
            throw new AssertionError("in-memory JSON parsing does not do I/O", e);
        }
    }

    static SafetensorsException jsonError(String what, long offset) {
        return new SafetensorsException(
                InvalidHeaderDeserialization,
                "invalid JSON in header: "
                        + what
                        + (offset >= 0 ? " (at header byte " + offset + ")" : ""));
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "malformed JSON";
        }
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }

    /** The streaming walk over one header document. */
    private static final class JsonReader {
        private static final int DTYPE = 1;
        private static final int SHAPE = 2;
        private static final int OFFSETS = 4;

        private final JsonParser p;
        private final SafetensorsLimits limits;
        private long[] dims = new long[8];

        JsonReader(JsonParser p, SafetensorsLimits limits) {
            this.p = p;
            this.limits = limits;
        }

        RawHeader readHeader() throws IOException {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw error("EOF while parsing a value");
            }
            if (t != JsonToken.START_OBJECT) {
                throw error("invalid type: " + describe(t) + ", expected a JSON object");
            }
            Map<String, String> metadata = null;
            boolean seenMetadata = false;
            List<RawTensor> tensors = new ArrayList<>();
            Map<String, Boolean> names = new HashMap<>();
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                checkSurrogates(name);
                if (METADATA_KEY.equals(name)) {
                    if (seenMetadata) {
                        throw error("duplicate field `__metadata__`");
                    }
                    seenMetadata = true;
                    metadata = readMetadata();
                    continue;
                }
                RawTensor tensor = readTensor(name);
                if (names.put(name, Boolean.TRUE) != null) {
                    // The reference keeps the last entry silently; two parsers could then
                    // disagree on which bytes a name means, so we refuse (documented deviation).
                    throw error(
                            "duplicate tensor name "
                                    + Names.quote(name)
                                    + " (the format forbids duplicate keys; safeload refuses"
                                    + " them)");
                }
                if (tensors.size() >= limits.maxTensors()) {
                    throw new SafetensorsException(
                            HeaderTooLarge,
                            String.format(
                                    Locale.ROOT,
                                    "header too large: more than %d tensors"
                                            + " (SafetensorsLimits.maxTensors)",
                                    limits.maxTensors()));
                }
                tensors.add(tensor);
            }
            if (t != JsonToken.END_OBJECT) {
                throw error("expected a tensor name or `}`");
            }
            if (p.nextToken() != null) {
                throw error("trailing characters after the header object");
            }
            return new RawHeader(metadata, tensors);
        }

        private Map<String, String> readMetadata() throws IOException {
            JsonToken t = p.nextToken();
            if (t == JsonToken.VALUE_NULL) {
                return null;
            }
            if (t != JsonToken.START_OBJECT) {
                throw error(
                        "invalid type: "
                                + describe(t)
                                + " for `__metadata__`, expected a map of strings to strings or"
                                + " null");
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                checkSurrogates(key);
                JsonToken v = p.nextToken();
                if (v != JsonToken.VALUE_STRING) {
                    throw error(
                            "invalid type: "
                                    + describe(v)
                                    + " for `__metadata__` key "
                                    + Names.quote(key)
                                    + ", expected a string");
                }
                String value = p.getText();
                checkSurrogates(value);
                // Duplicate metadata keys: the last one wins, as in the reference (a HashMap).
                metadata.put(key, value);
            }
            return metadata;
        }

        private RawTensor readTensor(String name) throws IOException {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_OBJECT) {
                // serde's derive would also take a 3-element array here; safeload accepts only the
                // object form every writer produces (documented deviation).
                throw error(
                        "invalid type: "
                                + describe(t)
                                + " for tensor "
                                + Names.quote(name)
                                + ", expected an object");
            }
            int seen = 0;
            DType dtype = null;
            long[] shape = null;
            long begin = 0;
            long end = 0;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                int bit =
                        switch (field) {
                            case "dtype" -> DTYPE;
                            case "shape" -> SHAPE;
                            case "data_offsets" -> OFFSETS;
                            default -> 0;
                        };
                if (bit == 0) {
                    // Unknown fields are ignored by the reference, but still parsed fully (serde
                    // buffers them), so their content must be valid for serde_json too.
                    checkSurrogates(field);
                    skipValue(p.nextToken());
                    continue;
                }
                if ((seen & bit) != 0) {
                    throw error("duplicate field `" + field + "` in tensor " + Names.quote(name));
                }
                seen |= bit;
                switch (bit) {
                    case DTYPE -> dtype = readDtype(name);
                    case SHAPE -> shape = readShape(name);
                    default -> {
                        if (p.nextToken() != JsonToken.START_ARRAY) {
                            throw error(
                                    "invalid type for `data_offsets` of tensor "
                                            + Names.quote(name)
                                            + ", expected a tuple of size 2");
                        }
                        begin = readU64(p.nextToken(), "data_offsets", name);
                        end = readU64(p.nextToken(), "data_offsets", name);
                        if (p.nextToken() != JsonToken.END_ARRAY) {
                            throw error(
                                    "invalid length for `data_offsets` of tensor "
                                            + Names.quote(name)
                                            + ", expected a tuple of size 2");
                        }
                    }
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw error("malformed tensor object " + Names.quote(name));
            }
            if ((seen & DTYPE) == 0) {
                throw error("missing field `dtype` in tensor " + Names.quote(name));
            }
            if ((seen & SHAPE) == 0) {
                throw error("missing field `shape` in tensor " + Names.quote(name));
            }
            if ((seen & OFFSETS) == 0) {
                throw error("missing field `data_offsets` in tensor " + Names.quote(name));
            }
            return new RawTensor(name, dtype, shape, begin, end);
        }

        private DType readDtype(String name) throws IOException {
            JsonToken t = p.nextToken();
            if (t != JsonToken.VALUE_STRING) {
                throw error(
                        "invalid type: "
                                + describe(t)
                                + " for `dtype` of tensor "
                                + Names.quote(name)
                                + ", expected a string");
            }
            String text = p.getText();
            DType d = DType.lookup(text);
            if (d == null) {
                checkSurrogates(text);
                throw error(
                        "unknown variant "
                                + Names.quote(text)
                                + " for `dtype` of tensor "
                                + Names.quote(name));
            }
            return d;
        }

        private long[] readShape(String name) throws IOException {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw error(
                        "invalid type for `shape` of tensor "
                                + Names.quote(name)
                                + ", expected a sequence");
            }
            int rank = 0;
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                long d = readU64(t, "shape", name);
                if (rank == dims.length) {
                    dims =
                            Arrays.copyOf(
                                    dims, rank * 2); // grows with parsed tokens, not a length field
                }
                dims[rank++] = d;
            }
            return Arrays.copyOf(dims, rank);
        }

        /**
         * A JSON integer in [0, 2^64): serde's usize on 64-bit targets; floats and -0 are refused.
         */
        private long readU64(JsonToken t, String field, String name) throws IOException {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw error(
                        "invalid type: "
                                + describe(t)
                                + " in `"
                                + field
                                + "` of tensor "
                                + Names.quote(name)
                                + ", expected usize");
            }
            char[] chars = p.getTextCharacters();
            int off = p.getTextOffset();
            int len = p.getTextLength();
            if (chars[off] == '-') {
                throw error(
                        "invalid value: negative integer in `"
                                + field
                                + "` of tensor "
                                + Names.quote(name)
                                + ", expected usize");
            }
            if (len > 20) {
                throw error(
                        "number out of range in `"
                                + field
                                + "` of tensor "
                                + Names.quote(name)
                                + ", expected usize");
            }
            long v = 0;
            for (int i = off; i < off + len; i++) {
                long next = v * 10 + (chars[i] - '0');
                // Unsigned overflow check: v * 10 + digit must not wrap past 2^64.
                if (Long.compareUnsigned(v, 0x1999_9999_9999_9999L) > 0
                        || Long.compareUnsigned(next, v * 10) < 0) {
                    throw error(
                            "number out of range in `"
                                    + field
                                    + "` of tensor "
                                    + Names.quote(name)
                                    + ", expected usize");
                }
                v = next;
            }
            return v;
        }

        /** Skips one value, checking what serde_json would check while buffering it. */
        private void skipValue(JsonToken t) throws IOException {
            int depth = 0;
            do {
                switch (t) {
                    case START_OBJECT, START_ARRAY -> depth++;
                    case END_OBJECT, END_ARRAY -> depth--;
                    case FIELD_NAME, VALUE_STRING ->
                            checkSurrogates(
                                    p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
                    case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> checkNumberRange(t);
                    case VALUE_TRUE, VALUE_FALSE, VALUE_NULL -> {}
                    default -> throw error("unexpected token " + t);
                }
                if (depth == 0) {
                    return;
                }
                t = p.nextToken();
            } while (t != null);
            throw error("EOF while parsing a value");
        }

        /**
         * serde_json turns integers beyond i64/u64 and all floats into f64 and fails on infinity.
         */
        private void checkNumberRange(JsonToken t) throws IOException {
            if (t == JsonToken.VALUE_NUMBER_INT && p.getTextLength() <= 18) {
                return;
            }
            double d = Double.parseDouble(p.getText()); // linear in the text, unlike BigInteger
            if (Double.isInfinite(d)) {
                throw error("number out of range");
            }
        }

        private void checkSurrogates(String s) {
            for (int i = 0; i < s.length(); i++) {
                if (Character.isSurrogate(s.charAt(i))) {
                    checkSurrogates(s.toCharArray(), 0, s.length());
                    return;
                }
            }
        }

        /**
         * A {@code \}{@code uD800} escape without its pair is an error in serde_json, not in
         * Jackson.
         */
        private void checkSurrogates(char[] c, int off, int len) {
            int end = off + len;
            for (int i = off; i < end; i++) {
                char ch = c[i];
                if (Character.isHighSurrogate(ch)
                        && i + 1 < end
                        && Character.isLowSurrogate(c[i + 1])) {
                    i++;
                } else if (Character.isSurrogate(ch)) {
                    throw error(
                            String.format(
                                    Locale.ROOT, "lone surrogate \\u%04x in a string", (int) ch));
                }
            }
        }

        private SafetensorsException error(String what) {
            return jsonError(what, p.currentLocation().getByteOffset());
        }

        private static String describe(JsonToken t) {
            if (t == null) {
                return "end of input";
            }
            return switch (t) {
                case START_OBJECT -> "map";
                case START_ARRAY -> "sequence";
                case VALUE_STRING -> "string";
                case VALUE_NUMBER_INT -> "integer";
                case VALUE_NUMBER_FLOAT -> "floating point";
                case VALUE_TRUE, VALUE_FALSE -> "boolean";
                case VALUE_NULL -> "null";
                default -> t.toString();
            };
        }
    }
}
