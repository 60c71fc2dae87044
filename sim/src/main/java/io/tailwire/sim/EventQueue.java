package io.tailwire.sim;

import java.util.PriorityQueue;

/**
 * Pending actions ordered by virtual time, then by insertion sequence: two events at the same instant
 * always run in the order they were scheduled, so a run depends only on the seed.
 */
public final class EventQueue {
    /** A scheduled action; cancel() makes it a no-op without the cost of removing it from the heap. */
    public static final class Event implements Comparable<Event> {
        private final long time;
        private final long seq;
        private final Runnable action;
        private boolean cancelled;

        Event(long time, long seq, Runnable action) {
            this.time = time;
            this.seq = seq;
            this.action = action;
        }

        public long time() {
            return time;
        }

        public void cancel() {
            cancelled = true;
        }

        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public int compareTo(Event o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final PriorityQueue<Event> heap = new PriorityQueue<>();
    private long nextSeq;

    public Event schedule(long time, Runnable action) {
        Event e = new Event(time, nextSeq++, action);
        heap.add(e);
        return e;
    }

    /** Time of the earliest live event, Long.MAX_VALUE if none. */
    public long peekTime() {
        dropCancelled();
        Event e = heap.peek();
        return e == null ? Long.MAX_VALUE : e.time;
    }

    /** Removes the earliest live event and returns it (null if none) without running it. */
    public Event poll() {
        dropCancelled();
        return heap.poll();
    }

    /** Runs one event; the caller has already advanced the clock to its time. */
    public static void run(Event e) {
        if (!e.cancelled) {
            e.action.run();
        }
    }

    public boolean isEmpty() {
        return peekTime() == Long.MAX_VALUE;
    }

    /** Number of queued events, cancelled ones included. */
    public int size() {
        return heap.size();
    }

    private void dropCancelled() {
        while (!heap.isEmpty() && heap.peek().cancelled) {
            heap.poll();
        }
    }
}
