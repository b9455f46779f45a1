package dev.safeload.safetensors.internal;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Writes a header exactly as the reference writer does ({@code prepare} + {@code serialize} in
 * {@code safetensors/src/tensor.rs}, with serde_json's compact formatter): no spaces, {@code
 * __metadata__} first when present, then each tensor as {@code
 * {"dtype":..,"shape":[..],"data_offsets":[b,e]}} in offset order; strings escaped as serde_json
 * escapes them ({@code \"}, {@code \\}, {@code \b \f \n \r \t}, other control characters as
 * lowercase {@code \\u00xx} escapes, everything else raw UTF-8); then spaces up to a multiple of 8
 * bytes.
 */
public final class HeaderJson {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final StringBuilder sb = new StringBuilder(256);
    private boolean first = true;

    /** Starts a header; {@code metadata} may be null (no {@code __metadata__} key). */
    public HeaderJson(Map<String, String> metadata) {
        sb.append('{');
        if (metadata != null) {
            sb.append("\"__metadata__\":{");
            boolean firstKey = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (!firstKey) {
                    sb.append(',');
                }
                firstKey = false;
                string(e.getKey());
                sb.append(':');
                string(e.getValue());
            }
            sb.append('}');
            first = false;
        }
    }

    /** Appends one tensor entry. */
    public HeaderJson tensor(String name, String dtype, long[] shape, long begin, long end) {
        if (!first) {
            sb.append(',');
        }
        first = false;
        string(name);
        sb.append(":{\"dtype\":\"").append(dtype).append("\",\"shape\":[");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(shape[i]);
        }
        sb.append("],\"data_offsets\":[").append(begin).append(',').append(end).append("]}");
        return this;
    }

    /** The finished header, UTF-8, padded with spaces to a multiple of 8 bytes. */
    public byte[] toPaddedBytes() {
        byte[] raw = (sb + "}").getBytes(StandardCharsets.UTF_8);
        int padded = (raw.length + 7) & ~7;
        byte[] out = new byte[padded];
        System.arraycopy(raw, 0, out, 0, raw.length);
        for (int i = raw.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    /** The padded length the header will have, without building it twice. */
    public long paddedLength() {
        long len = (sb + "}").getBytes(StandardCharsets.UTF_8).length;
        return (len + 7) & ~7L;
    }

    private void string(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
