package dev.safeload.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Arrays;
import java.util.Iterator;

/**
 * Turns fuzzer bytes into a candidate safetensors file. Byte 0 picks how: even = the rest is the
 * whole file, as is; odd = the rest is the header JSON, the length prefix is made to match it and
 * the data section is sized from the largest {@code data_offsets} end found (up to 1 MiB), so
 * mutations reach the offset and shape checks instead of dying at the length checks.
 */
public final class FuzzFiles {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_DATA = 1 << 20;

    private FuzzFiles() {}

    public static byte[] toFile(byte[] input) {
        if (input.length == 0) {
            return input;
        }
        byte[] rest = Arrays.copyOfRange(input, 1, input.length);
        if ((input[0] & 1) == 0) {
            return rest;
        }
        return RawFiles.of(rest, new byte[(int) Math.min(MAX_DATA, dataLength(rest))]);
    }

    /** The largest data_offsets end in a header, best effort (0 when it is not parseable). */
    static long dataLength(byte[] header) {
        try {
            JsonNode root = JSON.readTree(header);
            long max = 0;
            if (root == null || !root.isObject()) {
                return 0;
            }
            for (Iterator<JsonNode> it = root.elements(); it.hasNext(); ) {
                JsonNode t = it.next();
                JsonNode off = t.path("data_offsets");
                if (off.isArray() && off.size() == 2 && off.get(1).canConvertToLong()) {
                    max = Math.max(max, off.get(1).asLong());
                }
            }
            return max;
        } catch (Exception e) {
            return 0; // unparseable here: let the reader under test say why
        }
    }

    /** The fuzzer encoding of a header: marker byte 1, then the header bytes. */
    public static byte[] encodeHeader(byte[] header) {
        byte[] out = new byte[header.length + 1];
        out[0] = 1;
        System.arraycopy(header, 0, out, 1, header.length);
        return out;
    }
}
