package io.tailwire.engine;

import java.util.ArrayDeque;

/**
 * The events an {@link AgentConnection} has produced and its caller not yet taken, oldest first. Bounded by
 * what the connection holds: at most one {@link AgentEvent.Durable} per stream (coalesced), one reply and one
 * close per stream, one {@link AgentEvent.Closed}. Adding and taking allocate nothing once the deque has grown.
 */
final class AgentEventQueue {
    private final ArrayDeque<AgentEvent> events = new ArrayDeque<>();

    void add(AgentEvent e) {
        events.add(e);
    }

    /** A durable offset for the stream whose reusable event is {@code d}; coalesced if it is still queued. */
    void durable(AgentEvent.Durable d, long offset) {
        d.raise(offset);
        if (!d.queued) {
            d.queued = true;
            events.add(d);
        }
    }

    /** The oldest event not yet taken, or null. */
    AgentEvent poll() {
        AgentEvent e = events.poll();
        if (e instanceof AgentEvent.Durable d) {
            d.queued = false;
        }
        return e;
    }

    boolean isEmpty() {
        return events.isEmpty();
    }
}
