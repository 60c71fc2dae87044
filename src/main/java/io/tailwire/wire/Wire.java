package io.tailwire.wire;

import java.util.regex.Pattern;

/** Constants of wire-spec.md version 1. Offsets are from the first byte of the datagram. */
public final class Wire {
    private Wire() {
    }

    public static final int VERSION = 1;

    /** All fixed-layout integers are little-endian (section 1). */
    public static final java.nio.ByteOrder BYTE_ORDER = java.nio.ByteOrder.LITTLE_ENDIAN;

    public static final int TYPE_HELLO = 0x01;
    public static final int TYPE_RETRY = 0x02;
    public static final int TYPE_WELCOME = 0x03;
    public static final int TYPE_STREAM_OPEN = 0x04;
    public static final int TYPE_STREAM_REPLY = 0x05;
    public static final int TYPE_STREAM_CLOSE = 0x06;
    public static final int TYPE_STREAM_CLOSED = 0x07;
    public static final int TYPE_CLOSE = 0x08;
    public static final int TYPE_LOSS_REPORT = 0x09;
    public static final int TYPE_DATA = 0x10;
    public static final int TYPE_ACK = 0x11;
    public static final int TYPE_PING = 0x12;
    public static final int TYPE_RESET = 0x13;

    /** Flag bit 0: authenticated datagram (reserved, section 9). v1 drops datagrams that set it. */
    public static final int FLAG_AUTH = 0x1;

    // Common header (section 2).
    public static final int HEADER_LENGTH = 16;
    public static final int VERSION_OFFSET = 0;
    public static final int TYPE_OFFSET = 1;
    public static final int FLAGS_OFFSET = 2;
    public static final int CHECKSUM_OFFSET = 4;
    public static final int CONNECTION_ID_OFFSET = 8;

    // DATA (section 4).
    public static final int DATA_HEADER_LENGTH = 48;
    public static final int DATA_PACKET_NUMBER_OFFSET = 16;
    public static final int DATA_TIMESTAMP_OFFSET = 24;
    public static final int DATA_STREAM_ID_OFFSET = 32;
    public static final int DATA_LENGTH_OFFSET = 36;
    public static final int DATA_STREAM_OFFSET_OFFSET = 40;

    // ACK (section 5).
    public static final int ACK_FIXED_LENGTH = 48;
    public static final int ACK_CUMULATIVE_OFFSET = 16;
    public static final int ACK_ECHO_TIMESTAMP_OFFSET = 24;
    public static final int ACK_DELAY_OFFSET = 32;
    public static final int ACK_WINDOW_OFFSET = 40;
    public static final int ACK_SACK_WORDS_OFFSET = 44;
    public static final int ACK_DURABLE_COUNT_OFFSET = 46;
    public static final int MAX_SACK_WORDS = 16;
    /** Packets a receiver tracks beyond cumulative: 16 words of 64 bits. */
    public static final int SACK_RANGE = MAX_SACK_WORDS * 64;
    public static final int MAX_DURABLE_ENTRIES = 64;
    public static final int DURABLE_ENTRY_LENGTH = 12;
    public static final int MAX_ACK_LENGTH = ACK_FIXED_LENGTH + 8 * MAX_SACK_WORDS
        + DURABLE_ENTRY_LENGTH * MAX_DURABLE_ENTRIES;

    // PING (section 7.4) and RESET (section 7.5).
    public static final int PING_LENGTH = 24;
    public static final int PING_TIMESTAMP_OFFSET = 16;
    public static final int RESET_LENGTH = HEADER_LENGTH;

    /**
     * Agent ids (section 3): 1 to 64 of these characters, and not "." or "..": an id names the agent's
     * directory on the server, so it must be one plain path segment.
     */
    private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** The rule of {@link #isValidAgentId}, in words for error messages. */
    public static final String AGENT_ID_RULE = "[A-Za-z0-9._-]{1,64} and not . or ..";

    public static boolean isValidAgentId(String id) {
        return id != null && AGENT_ID.matcher(id).matches() && !id.equals(".") && !id.equals("..");
    }

    // Sizes (section 8).
    public static final int DEFAULT_MAX_DATAGRAM = 1472;
    public static final int MIN_MAX_DATAGRAM = 1200;
    public static final int MAX_MAX_DATAGRAM = 65507;
    public static final int MIN_HELLO_LENGTH = 1200;

    // Decode results: 0 is OK, negatives are reasons for dropping.
    public static final int OK = 0;
    public static final int ERR_TOO_SHORT = -1;
    public static final int ERR_VERSION = -2;
    public static final int ERR_TYPE = -3;
    public static final int ERR_LENGTH = -4;
    public static final int ERR_CHECKSUM = -5;
    public static final int ERR_FLAGS = -6;
    public static final int ERR_BODY = -7;
    public static final int ERR_TOO_LONG = -8;

    public static boolean isKnownType(int type) {
        return (type >= TYPE_HELLO && type <= TYPE_LOSS_REPORT) || (type >= TYPE_DATA && type <= TYPE_RESET);
    }

    public static boolean isControlType(int type) {
        return type >= TYPE_HELLO && type <= TYPE_LOSS_REPORT;
    }

    public static String errorName(int code) {
        switch (code) {
            case OK: return "OK";
            case ERR_TOO_SHORT: return "TOO_SHORT";
            case ERR_VERSION: return "VERSION";
            case ERR_TYPE: return "TYPE";
            case ERR_LENGTH: return "LENGTH";
            case ERR_CHECKSUM: return "CHECKSUM";
            case ERR_FLAGS: return "FLAGS";
            case ERR_BODY: return "BODY";
            case ERR_TOO_LONG: return "TOO_LONG";
            default: return "ERR(" + code + ")";
        }
    }
}
