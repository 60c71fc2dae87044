package io.tailwire.server.status;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What the server shows on {@code GET /status} (and in per-agent metrics). Called on the admin HTTP
 * thread: the implementation must return a snapshot without blocking the engine (for example one the
 * engine thread publishes through a volatile field every few hundred milliseconds), never walk the
 * engine's live structures.
 */
@FunctionalInterface
public interface StatusSource {
    /** Every agent the server knows of (connected, or with streams in its output), in display order. */
    List<Agent> agents();

    /** A source with no agents, for a server that does not report any. */
    StatusSource NONE = List::of;

    /**
     * One agent.
     *
     * @param agentId        the agent's id
     * @param connected      whether it has a live connection now
     * @param remoteAddress  "host:port" of the live connection, null when not connected
     * @param connectedSince wall-clock start of the live connection, null when not connected
     * @param lastSeen       wall-clock time of the last datagram from it, null if never
     * @param window         the receive window last advertised to it, in bytes (-1 unknown)
     * @param bytesReceived  new payload bytes received from it (duplicates not counted)
     * @param streams        its open streams
     */
    record Agent(String agentId, boolean connected, String remoteAddress, Instant connectedSince,
                 Instant lastSeen, long window, long bytesReceived, List<Stream> streams) {
        public Agent {
            Objects.requireNonNull(agentId, "agentId");
            streams = streams == null ? List.of() : List.copyOf(streams);
        }

        /** Bytes held for this agent but not yet durable: how far its disk lags. */
        public long unsyncedBytes() {
            long n = 0;
            for (Stream s : streams) {
                n += Math.max(0, s.held() - s.durable());
            }
            return n;
        }
    }

    /**
     * One stream (one generation of one source file).
     *
     * @param path       the agent's source path
     * @param generation the generation number (wire-spec.md 6.1)
     * @param held       bytes of the generation the server holds (written, maybe not durable)
     * @param durable    bytes of it on stable storage
     */
    record Stream(String path, long generation, long held, long durable) {
        public Stream {
            Objects.requireNonNull(path, "path");
        }
    }
}
