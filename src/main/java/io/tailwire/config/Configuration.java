package io.tailwire.config;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static io.tailwire.io.Units.NANOS_PER_SECOND;

import io.tailwire.wire.Wire;

/**
 * Every default of agent and server, defined once, with its unit in its name and its reason beside it (as
 * Aeron's {@code Configuration} does). The command lines, the library's {@code defaults()} and the simulators
 * read these values, so what is tested is what ships. A value the wire fixes (a range, a meaning of 0) is in
 * {@link Wire}, not here: these are choices an operator may change.
 */
public final class Configuration {
    // ---------------------------------------------------------------- both sides (wire-spec.md section 8)

    /** A connection silent this long is dead (six missed keepalives); both sides drop it then. */
    public static final long IDLE_TIMEOUT_NS = 30 * NANOS_PER_SECOND;

    /**
     * A quiet agent sends PING this often: well inside the idle timeout, and often enough to keep the
     * common 30 s UDP NAT binding alive.
     */
    public static final long KEEPALIVE_INTERVAL_NS = 5 * NANOS_PER_SECOND;

    /** Longest an ACK is held to cover more packets (wire-spec 5); the agent adds it to its RTO. */
    public static final long MAX_ACK_DELAY_NS = NANOS_PER_MILLI;

    // ---------------------------------------------------------------- agent

    /** The server's port when none is given; also what the server listens on by default. */
    public static final int SERVER_PORT = 7070;

    /** 1472 = a 1500-byte Ethernet MTU minus IPv4 and UDP headers: never fragmented on the common path. */
    public static final int AGENT_MAX_DATAGRAM_BYTES = Wire.DEFAULT_MAX_DATAGRAM;

    /** How long one HELLO exchange may take before the agent backs off and starts again. */
    public static final long CONNECT_TIMEOUT_NS = 5 * NANOS_PER_SECOND;

    /**
     * Payload bytes queued or unacknowledged at once: 4 MiB covers 1 Gb/s at 32 ms of round trip, and is
     * the only data (besides the file itself, the spool) the agent holds in memory per connection.
     */
    public static final long SEND_BUFFER_BYTES = 4L << 20;

    /** RTT assumed before the first sample (RFC 9002 uses 333 ms for the Internet; ours are mostly LANs). */
    public static final long INITIAL_RTT_NS = 100 * NANOS_PER_MILLI;

    /** Lower bound of the retransmission timeout: above the scheduling jitter of a busy host. */
    public static final long MIN_RTO_NS = 20 * NANOS_PER_MILLI;

    /** Upper bound of the retransmission timeout after backoff: a healed path is found within 2 s. */
    public static final long MAX_RTO_NS = 2 * NANOS_PER_SECOND;

    /** After a rotation, the old file must stay unchanged this long before it counts as finished. */
    public static final long ROTATION_GRACE_NS = 2 * NANOS_PER_SECOND;

    /** Rotated files held open until shipped; past this the oldest is dropped with a loss report. */
    public static final int MAX_ROTATED_HANDLES = 64;

    /** How often globs are re-evaluated for new files (a directory walk; the open files are polled faster). */
    public static final long DISCOVERY_INTERVAL_NS = 200 * NANOS_PER_MILLI;

    /** Directory levels a {@code **} glob descends: bounds a walk through a deep or looping tree. */
    public static final int MAX_GLOB_DEPTH = 16;

    /** Poll interval while files change: new lines leave within a fraction of a millisecond. */
    public static final long POLL_MIN_NS = 200_000L;

    /** Poll interval while idle (the minimum doubles up to this): an idle agent costs ~100 wake-ups a second. */
    public static final long POLL_MAX_NS = 10 * NANOS_PER_MILLI;

    /** On SIGTERM, how long the agent waits for the server to acknowledge what it sent. */
    public static final long SHUTDOWN_TIMEOUT_NS = 5 * NANOS_PER_SECOND;

    // ---------------------------------------------------------------- server

    /** The server accepts any datagram size the wire allows; each connection then uses what the agent offers. */
    public static final int SERVER_MAX_DATAGRAM_BYTES = Wire.MAX_MAX_DATAGRAM;

    /** Agents connected at once: a connection costs ~14 KiB idle, so 10,000 fit any server's heap. */
    public static final int MAX_CONNECTIONS = 10_000;

    /**
     * Receive buffer per connection (reorder buffer plus bytes written but not yet durable); the advertised
     * window is what is free of it. 4 MiB keeps one agent at 1 Gb/s across a 32 ms round trip.
     */
    public static final long CONNECTION_BUFFER_BYTES = 4L << 20;

    /** Window announced in WELCOME, before the server has seen how fast the agent's path is. */
    public static final int INITIAL_WINDOW_BYTES = 256 * 1024;

    /** Open streams (file generations) per connection: a busy host's log directory, with room to spare. */
    public static final int MAX_STREAMS_PER_CONNECTION = 4096;

    /** A RETRY token is accepted this long after it was made (the cookie of wire-spec 3). */
    public static final long RETRY_TOKEN_VALIDITY_NS = 30 * NANOS_PER_SECOND;

    /** BUSY asks the agent to wait at least this long (it adds jitter) before trying again. */
    public static final int BUSY_RETRY_AFTER_MS = 1000;

    /** A full disk or an append that failed is retried this often, not on every packet. */
    public static final long APPEND_RETRY_NS = 10 * NANOS_PER_MILLI;

    /**
     * Connections from one source IP address: many NATed hosts behind one address still fit, while one host
     * cannot fill a table of 1024.
     */
    public static final int MAX_CONNECTIONS_PER_ADDRESS = 256;

    /**
     * New connections per second from one source IP address: a data centre's agents restarting behind one NAT
     * reconnect within seconds, and one host needs 20 s to make 1024 connections.
     */
    public static final int HANDSHAKES_PER_SECOND_PER_ADDRESS = 50;

    /** Receive-buffer memory shared by all connections: windows shrink to fit it, so the heap is never exceeded. */
    public static final long MEMORY_BUDGET_BYTES = 256L << 20;

    /** Streams open in the output store at once (server-wide); kept well below the open-file limit. */
    public static final int STORE_MAX_LIVE_STREAMS = 1000;

    /** Output files held open (idle ones closed least recently used first); below {@code ulimit -n}. */
    public static final int STORE_MAX_OPEN_FILES = 1000;

    /** Generations remembered per path in its index; only the newest matters to the protocol. */
    public static final int STORE_MAX_INDEX_ENTRIES = 1024;

    /**
     * A disconnected agent stays in /status and /metrics (marked disconnected) this long before its series
     * are removed: longer than a few scrape intervals and than an agent's reconnect back-off, so a restart is
     * seen as a gap, not as a series vanishing and reappearing.
     */
    public static final long DISCONNECTED_AGENT_LINGER_NS = 300 * NANOS_PER_SECOND;

    /** Agents the ingest throttle keeps a per-agent limit for. */
    public static final int THROTTLE_MAX_AGENTS = 10_000;

    /** An admin HTTP request must be read and answered within this (a half-sent request cannot hold a thread). */
    public static final long ADMIN_REQUEST_TIMEOUT_MS = 5_000;

    private Configuration() {
    }
}
