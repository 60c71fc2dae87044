package io.tailwire.engine;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;

import com.google.protobuf.MessageLite;

import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.HeaderFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Control datagrams waiting to be sent (replies, RETRY, RESET, CLOSE), in arrival order. Bounded: when it is
 * full the request is dropped and the peer repeats it. These allocate; they are rare or answer hostile traffic.
 */
@EngineThread
final class ServerReplies {
    static final int MAX_QUEUED_REPLIES = 1024;

    private record Outgoing(InetSocketAddress to, byte[] bytes) {
    }

    private final ArrayDeque<Outgoing> queue = new ArrayDeque<>();
    private final int maxDatagramSize;
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);

    ServerReplies(int maxDatagramSize) {
        this.maxDatagramSize = maxDatagramSize;
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /** Encodes a control message for sending, within {@code maxLength}; null if it does not fit. */
    byte[] encode(int maxLength, long connectionId, MessageLite body) {
        int len = ControlCodec.encode(scratch, 0, maxLength, connectionId, body);
        if (len <= 0) {
            return null;
        }
        byte[] bytes = new byte[len];
        scratch.getBytes(0, bytes);
        return bytes;
    }

    /** Queues a control message no longer than {@code maxLength} (anti-amplification) or our datagram size. */
    void control(InetSocketAddress to, int maxLength, long connectionId, MessageLite body) {
        if (queue.size() >= MAX_QUEUED_REPLIES) {
            return; // the peer repeats its request
        }
        byte[] bytes = encode(Math.min(maxLength, maxDatagramSize), connectionId, body);
        if (bytes != null) {
            queue.add(new Outgoing(to, bytes));
        }
    }

    void raw(InetSocketAddress to, byte[] bytes) {
        if (queue.size() < MAX_QUEUED_REPLIES) {
            queue.add(new Outgoing(to, bytes));
        }
    }

    /** Queues a RESET for a connection id we do not know; false when the queue is full. */
    boolean reset(InetSocketAddress to, long connectionId) {
        if (queue.size() >= MAX_QUEUED_REPLIES) {
            return false;
        }
        byte[] reset = new byte[Wire.RESET_LENGTH];
        HeaderFlyweight.encodeReset(new UnsafeBuffer(reset), 0, connectionId);
        queue.add(new Outgoing(to, reset));
        return true;
    }

    /** Writes the oldest reply into {@code out} at 0 and returns its length; its destination comes from {@link #lastTo}. */
    int send(MutableDirectBuffer out) {
        Outgoing o = queue.poll();
        out.putBytes(0, o.bytes);
        lastTo = o.to;
        return o.bytes.length;
    }

    private InetSocketAddress lastTo;

    InetSocketAddress lastTo() {
        return lastTo;
    }
}
