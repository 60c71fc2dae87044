package io.tailwire.engine;

import java.util.Collection;

import io.tailwire.engine.AgentConnection.StreamPhase;
import io.tailwire.proto.StreamOpen;

import org.agrona.collections.Int2ObjectHashMap;

/**
 * The streams of one {@link AgentConnection}, from {@link AgentConnection#openStream} until STREAM_CLOSED
 * (or a refusal): their phase, their control message's repeat state and how many of their packets are
 * still unacknowledged. Ids count up from 1 per connection. Not thread-safe: the connection's thread owns it.
 */
final class AgentStreamTable {
    /** One stream's state on the connection. */
    static final class Stream {
        final int id;
        final StreamOpen open;
        StreamPhase phase = StreamPhase.OPENING;
        /** When the current message (STREAM_OPEN, then STREAM_CLOSE) is repeated; unused before its first copy. */
        long deadlineNs;
        /** Copies of the current message sent so far (its back-off): none yet means it is due at once. */
        int backoff;
        long finalLength;
        int unacked;
        /** Reused for every durable offset the server reports for this stream (no allocation per ACK). */
        final AgentEvent.Durable durable;

        Stream(int id, StreamOpen open) {
            this.id = id;
            this.open = open;
            this.durable = new AgentEvent.Durable(id);
        }

        boolean due(long nowNs) {
            return backoff == 0 || nowNs - deadlineNs >= 0;
        }

        /** Its control message (STREAM_OPEN, or STREAM_CLOSE once its data is acknowledged) is to be sent. */
        boolean wantsControl() {
            return phase == StreamPhase.OPENING || (phase == StreamPhase.CLOSING && unacked == 0);
        }
    }

    private final Int2ObjectHashMap<Stream> streams = new Int2ObjectHashMap<>();
    private int nextStreamId = 1;

    /** The id the next {@link #add} takes. */
    int nextId() {
        return nextStreamId;
    }

    /** Adds a stream opening with {@code open}, whose id must be {@link #nextId()}. */
    Stream add(StreamOpen open) {
        assert open.getStreamId() == nextStreamId : "stream " + open.getStreamId() + " opened out of turn";
        Stream s = new Stream(nextStreamId++, open);
        streams.put(s.id, s);
        return s;
    }

    /** The stream, or null if the connection does not hold it. */
    Stream get(int id) {
        return streams.get(id);
    }

    void remove(int id) {
        streams.remove(id);
    }

    Collection<Stream> all() {
        return streams.values();
    }
}
