package io.tailwire.engine;

import java.net.InetSocketAddress;

import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;

/**
 * Notifications from {@link ServerEndpoint} for logging and metrics. Every method defaults to doing
 * nothing, so a listener implements only what it watches.
 */
public interface ServerEvents {
    default void onConnected(String agentId, InetSocketAddress from, long connectionId) {
    }

    default void onStreamOpened(String agentId, String path, long generation, long resumeOffset,
                                StreamStatus status) {
    }

    default void onClosed(String agentId, long connectionId, CloseCode code) {
    }

    /**
     * Right after {@link #onClosed}: the new payload bytes the connection received in its lifetime, so a
     * listener can keep per-agent counters across reconnects exactly.
     */
    default void onConnectionEnded(String agentId, long connectionId, long bytesReceived) {
    }

    /**
     * LOSS_REPORT from an agent: bytes it could not ship (wire-spec.md 6.5). Logged by the server. For an
     * open stream (path non-null) only bytes not reported before are passed, once (the agent repeats
     * each report); for an unknown stream path is null and repeats are passed through.
     */
    default void onLossReport(String agentId, String path, long generation, long fromOffset, long toOffset,
                              String reason) {
    }

    /**
     * LOSS_REPORT of a possible loss of unknown size (an empty range, wire-spec.md 6.5): bytes from {@code
     * atOffset} on may have existed and be gone. Passed once per open stream; for an unknown stream path is null.
     */
    default void onPossibleLoss(String agentId, String path, long generation, long atOffset, String reason) {
    }

    /**
     * Storage refused a connection's bytes (stalled = true, path of the stream that failed) and the
     * engine closed its window and retries; or it took them again (stalled = false, path null).
     */
    default void onStorageStalled(String agentId, String path, boolean stalled) {
    }

    /**
     * A HELLO for an agent id held by a live connection of another agent instance was refused with
     * AGENT_ID_IN_USE (wire-spec.md 3). Called once per holder connection and refused address, not per HELLO.
     */
    default void onAgentIdInUse(String agentId, InetSocketAddress holder, InetSocketAddress refused) {
    }

    ServerEvents NONE = new ServerEvents() {
    };
}
