package io.tailwire.sim.system;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * SIGSTOP/SIGCONT of a simulated process: until when it is stopped, and the datagrams its socket keeps
 * meanwhile (up to {@code capacity}; the rest are dropped, as by a full socket buffer), handed over when it
 * runs again.
 */
final class Freeze {
    interface Delivery {
        void deliver(InetSocketAddress from, byte[] data);
    }

    private record Held(InetSocketAddress from, byte[] data) {
    }

    private final int capacity;
    private final ArrayDeque<Held> inbox = new ArrayDeque<>();
    private long until = Long.MIN_VALUE;

    Freeze(int capacity) {
        this.capacity = capacity;
    }

    /** Stopped until at least {@code t}. */
    void extend(long t) {
        until = Math.max(until, t);
    }

    boolean active(long now) {
        return now < until;
    }

    long until() {
        return until;
    }

    /** A new process: not stopped, nothing kept. */
    void clear() {
        until = Long.MIN_VALUE;
        inbox.clear();
    }

    /** While stopped, keeps (or drops) the datagram and returns true; otherwise false. */
    boolean hold(InetSocketAddress from, byte[] data, long now) {
        if (!active(now)) {
            return false;
        }
        if (inbox.size() < capacity) {
            inbox.add(new Held(from, data));
        }
        return true;
    }

    /** Once running again, delivers what the socket kept, oldest first. */
    void release(long now, Delivery d) {
        if (active(now)) {
            return;
        }
        while (!inbox.isEmpty()) {
            Held h = inbox.poll();
            d.deliver(h.from(), h.data());
        }
    }
}
