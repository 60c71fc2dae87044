package io.tailwire.engine;

import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;

/** Callbacks from {@link AgentConnection}; called from within onDatagram/poll on the caller's thread. */
public interface AgentEvents {
    void onConnected(long connectionId, long serverInstance);

    void onStreamReply(int streamId, StreamStatus status, long resumeOffset, long generation, String message);

    /** Durable-offset hint from an ACK (wire-spec.md 5). */
    void onDurable(int streamId, long durableOffset);

    /** STREAM_CLOSED: if durableLength is below the final length the generation must be reopened. */
    void onStreamClosed(int streamId, long durableLength);

    /**
     * The connection is over (CLOSE received, RESET, idle timeout, connect timeout); the runtime creates a
     * new AgentConnection after its back-off. Not called for a local {@link AgentConnection#close(long)}.
     * Connect timeout and RESET report {@link CloseCode#CLOSE_CODE_UNSPECIFIED} with a reason.
     */
    void onClosed(CloseCode code, String reason, long retryAfterMs);
}
