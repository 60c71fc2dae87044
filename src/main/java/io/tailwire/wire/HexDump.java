package io.tailwire.wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/** Hex dumps as used in wire-spec.md: 16 bytes a line, "OOOO: xx xx ...". */
public final class HexDump {
    private HexDump() {
    }

    public static String format(DirectBuffer buffer, int offset, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i += 16) {
            sb.append(String.format("%04x:", i));
            for (int j = i; j < Math.min(length, i + 16); j++) {
                sb.append(' ').append(String.format("%02x", buffer.getByte(offset + j) & 0xFF));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /**
     * Parses the format above (offset prefixes are checked for sequence) into {@code out}; returns
     * the number of bytes, or -1 when the text is malformed.
     */
    public static int parse(String text, MutableDirectBuffer out, int offset) {
        int n = 0;
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) {
                return -1;
            }
            try {
                if (Integer.parseInt(line.substring(0, colon), 16) != n) {
                    return -1;
                }
                for (String b : line.substring(colon + 1).trim().split("\\s+")) {
                    if (b.isEmpty()) {
                        continue;
                    }
                    if (b.length() != 2) {
                        return -1;
                    }
                    out.putByte(offset + n++, (byte) Integer.parseInt(b, 16));
                }
            } catch (NumberFormatException | IndexOutOfBoundsException e) {
                return -1;
            }
        }
        return n;
    }
}
