package io.tailwire.engine;

import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;

/**
 * What happened on an {@link AgentConnection}, queued while it processes a datagram or a poll and taken
 * by the caller afterwards with {@link AgentConnection#pollEvent()} (quinn-proto's {@code poll() -> Event}).
 * The connection never calls out: whatever the caller does about an event (open a stream, report a loss,
 * seek a file) happens between engine calls, never inside one.
 */
public sealed interface AgentEvent {
    /** WELCOME arrived: the connection can open streams. */
    record Connected(long connectionId, long serverInstance) implements AgentEvent {
    }

    /** STREAM_REPLY to {@link AgentConnection#openStream}; the connection already treats an OK stream as open. */
    record StreamReplied(int streamId, StreamStatus status, long resumeOffset, long generation, String message)
        implements AgentEvent {
    }

    /**
     * The server holds the stream durably up to {@link #offset()} (wire-spec.md 5). ACKs carry this per
     * stream, so one object per stream is reused (the data path allocates nothing) and the entries of
     * datagrams not yet taken coalesce into the highest offset. Read it before the next call into the
     * connection; the connection reuses it.
     */
    final class Durable implements AgentEvent {
        private final int streamId;
        private long offset;
        /** In the queue, not yet taken: a further entry raises {@link #offset} instead of queueing again. */
        boolean queued;

        Durable(int streamId) {
            this.streamId = streamId;
        }

        public int streamId() {
            return streamId;
        }

        public long offset() {
            return offset;
        }

        void raise(long durableOffset) {
            offset = queued ? Math.max(offset, durableOffset) : durableOffset;
        }

        @Override
        public String toString() {
            return "Durable[streamId=" + streamId + ", offset=" + offset + "]";
        }
    }

    /** STREAM_CLOSED: if durableLength is below the final length the generation must be reopened. */
    record StreamClosed(int streamId, long durableLength) implements AgentEvent {
    }

    /**
     * The connection is over (CLOSE received, RESET, idle timeout, connect timeout); the runtime creates a
     * new AgentConnection after its back-off. Not queued for a local {@link AgentConnection#close(long)}.
     * Connect timeout and RESET report {@link CloseCode#CLOSE_CODE_UNSPECIFIED} with a reason.
     */
    record Closed(CloseCode code, String reason, long retryAfterMs) implements AgentEvent {
    }
}
