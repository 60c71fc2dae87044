package io.tailwire.engine;

import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;

/**
 * For tests: one method per {@link AgentEvent}, and {@link #drain} to take a connection's queued events
 * and hand each to its method, between engine calls (after each onDatagram/poll), as AgentCore does.
 */
public interface AgentEventHandler {
    void onConnected(long connectionId, long serverInstance);

    void onStreamReply(int streamId, StreamStatus status, long resumeOffset, long generation, String message);

    void onDurable(int streamId, long durableOffset);

    void onStreamClosed(int streamId, long durableLength);

    void onClosed(CloseCode code, String reason, long retryAfterMs);

    /** Hands every event {@code c} has queued to {@code h}, oldest first. */
    static void drain(AgentConnection c, AgentEventHandler h) {
        for (AgentEvent e = c.pollEvent(); e != null; e = c.pollEvent()) {
            if (e instanceof AgentEvent.Durable d) {
                h.onDurable(d.streamId(), d.offset());
            } else if (e instanceof AgentEvent.StreamReplied r) {
                h.onStreamReply(r.streamId(), r.status(), r.resumeOffset(), r.generation(), r.message());
            } else if (e instanceof AgentEvent.StreamClosed s) {
                h.onStreamClosed(s.streamId(), s.durableLength());
            } else if (e instanceof AgentEvent.Connected c2) {
                h.onConnected(c2.connectionId(), c2.serverInstance());
            } else if (e instanceof AgentEvent.Closed cl) {
                h.onClosed(cl.code(), cl.reason(), cl.retryAfterMs());
            }
        }
    }
}
