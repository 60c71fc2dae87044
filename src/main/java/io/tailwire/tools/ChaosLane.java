package io.tailwire.tools;

import java.util.PriorityQueue;

/**
 * One direction of udp-chaos as a pure scheduler: datagrams go in with offer(now, ...), come out of
 * poll(now) when due. No sockets and no clock: the caller passes nanoseconds since start, so the whole fault
 * pipeline (drops, duplicates, delays, reordering) is testable without a network.
 *
 * @param <T> where a datagram is going (the socket loop's per-client session)
 */
public final class ChaosLane<T> {
    /** A datagram waiting to go out. */
    public static final class Pending<T> implements Comparable<Pending<T>> {
        public final long sendAt;
        final long order;
        public final byte[] data;
        public final T dest;

        Pending(long sendAt, long order, byte[] data, T dest) {
            this.sendAt = sendAt;
            this.order = order;
            this.data = data;
            this.dest = dest;
        }

        @Override
        public int compareTo(Pending<T> o) {
            int c = Long.compare(sendAt, o.sendAt);
            return c != 0 ? c : Long.compare(order, o.order);
        }
    }

    /** What this lane did; read after the loop stopped (or from the loop thread). */
    public static final class Counters {
        public long received;
        public long forwarded;
        public long lossDrops;
        public long blackoutDrops;
        public long rateDrops;
        public long duplicated;
        /** Held back and released right behind a later datagram. */
        public long reordered;
        /** Held back but nothing followed within the hold time, so released alone. */
        public long reorderTimeouts;
        /** Copies scheduled with a delay above zero. */
        public long delayed;
        public long sendErrors;
    }

    private final FaultDecider decider;
    private final long holdNanos;
    private final PriorityQueue<Pending<T>> queue = new PriorityQueue<>();
    private final Counters counters = new Counters();
    private long order;
    private byte[] heldData;
    private T heldDest;
    private long heldDelay;
    private long heldUntil = Long.MAX_VALUE;

    public ChaosLane(ChaosConfig cfg, long seed) {
        this.decider = new FaultDecider(cfg, seed);
        this.holdNanos = cfg.reorderHoldNanos();
    }

    public Counters counters() {
        return counters;
    }

    /** Takes ownership of data. */
    public void offer(long now, byte[] data, T dest) {
        counters.received++;
        FaultDecider.Decision d = decider.decide(now, data.length);
        switch (d.action) {
            case DROP_LOSS -> counters.lossDrops++;
            case DROP_BLACKOUT -> counters.blackoutDrops++;
            case DROP_RATE -> counters.rateDrops++;
            case FORWARD -> forward(now, data, dest, d);
            default -> throw new IllegalStateException();
        }
    }

    private void forward(long now, byte[] data, T dest, FaultDecider.Decision d) {
        if (d.reorder && heldData == null) {
            heldData = data;
            heldDest = dest;
            heldDelay = d.delayNanos;
            heldUntil = now + holdNanos;
            if (d.copies == 2) {
                // The duplicate is not held, so the held original arrives after its own copy.
                schedule(now + d.dupDelayNanos, data, dest, d.dupDelayNanos);
                counters.duplicated++;
            }
            return;
        }
        long sendAt = now + d.delayNanos;
        schedule(sendAt, data, dest, d.delayNanos);
        if (d.copies == 2) {
            schedule(now + d.dupDelayNanos, data, dest, d.dupDelayNanos);
            counters.duplicated++;
        }
        if (heldData != null) {
            // Release the held datagram right behind this one: a guaranteed swap.
            long at = Math.max(sendAt, now + heldDelay);
            schedule(at, heldData, heldDest, at - now);
            counters.reordered++;
            clearHeld();
        }
    }

    private void schedule(long at, byte[] data, T dest, long delay) {
        if (delay > 0) {
            counters.delayed++;
        }
        queue.add(new Pending<>(at, order++, data, dest));
    }

    private void clearHeld() {
        heldData = null;
        heldDest = null;
        heldUntil = Long.MAX_VALUE;
    }

    /** The next datagram due at now, or null. */
    public Pending<T> poll(long now) {
        if (heldData != null && now >= heldUntil) {
            queue.add(new Pending<>(Math.max(now, heldUntil - holdNanos + heldDelay), order++, heldData, heldDest));
            if (heldDelay > 0) {
                counters.delayed++;
            }
            counters.reorderTimeouts++;
            clearHeld();
        }
        Pending<T> head = queue.peek();
        if (head == null || head.sendAt > now) {
            return null;
        }
        counters.forwarded++;
        return queue.poll();
    }

    /** When poll() will next have something (Long.MAX_VALUE if never without new input). */
    public long nextDeadline() {
        Pending<T> head = queue.peek();
        long q = head == null ? Long.MAX_VALUE : head.sendAt;
        return Math.min(q, heldUntil);
    }

    /** Datagrams still queued or held. */
    public int backlog() {
        return queue.size() + (heldData != null ? 1 : 0);
    }
}
