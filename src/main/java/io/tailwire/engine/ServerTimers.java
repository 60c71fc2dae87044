package io.tailwire.engine;

import java.util.Arrays;

/**
 * Which connections a turn must look at, without looking at the others (issue 12, issue 16 point 2).
 *
 * <p>Deadlines: each connection is in a binary min-heap keyed by its earliest deadline (idle timeout, ACK
 * delay, storage retry, limiter), exact to the nanosecond, so {@link #earliest()} is O(1) and a change is
 * O(log n). Expired ones are found by walking the heap from the top, touching only those with a key at or
 * before now; a connection stays in the heap until the turn has handled it and {@link #refresh} re-keys it.
 *
 * <p>Watched: connections with work that is not a time (an ACK owed, durable news, a STREAM_CLOSE to check) or
 * a closed window that may reopen (wire-spec 7.2), as a bit per position in the table's arrival order, so the
 * turn visits them in the same round-robin order as the table.
 *
 * <p>Why not Agrona's DeadlineTimerWheel: it has no "when is the next timer" query (a caller that sleeps
 * until the next deadline, as this engine and the simulator do, would wake every tick), its poll advances one
 * tick per call, and every spoke has the allocation of the fullest one: a herd of connections made within one
 * tick (a server restart) grows every spoke to the herd's size, in memory and in each poll's scan.
 */
@EngineThread
final class ServerTimers {
    private ServerConnection[] heap = new ServerConnection[16];
    private int size;
    /** Bit i: the connection at table position i is watched. */
    private long[] watched = new long[1];
    private int watchedCount;
    /** Connections examined by {@link #collectExpired}, {@link #forEachWatched} and re-keying, for tests. */
    long touched;

    private final long idleTimeoutNs;

    ServerTimers(long idleTimeoutNs) {
        this.idleTimeoutNs = idleTimeoutNs;
    }

    /** The connection's earliest deadline, Long.MAX_VALUE if none; compared as plain numbers, as before. */
    long key(ServerConnection c) {
        long d = Math.min(c.limiterTimerNs, c.lastReceivedNs + idleTimeoutNs);
        if (c.unackedData > 0) {
            d = Math.min(d, c.ackDeadlineNs);
        }
        return Math.min(d, c.stalledUntilNs);
    }

    static boolean watches(ServerConnection c) {
        return c.ackNow || c.durableDirty || c.closeCheck || c.lastAdvertisedWindow < c.maxPayload();
    }

    /** The earliest deadline of all connections; Long.MAX_VALUE when there is none. */
    long earliest() {
        return size == 0 ? Long.MAX_VALUE : heap[0].timerKey;
    }

    int watchedCount() {
        return watchedCount;
    }

    // ------------------------------------------------------------ membership (the table calls these)

    /** A connection joined the table at {@code position} (its end). */
    void added(ServerConnection c, int position) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        c.heapIndex = size;
        c.timerKey = key(c);
        heap[size++] = c;
        siftUp(c.heapIndex);
        growBits(position);
        setWatched(position, watches(c));
    }

    /** The connection at {@code position} left the table: later positions move down by one. */
    void removed(ServerConnection c, int position, int tableSizeBefore) {
        int i = c.heapIndex;
        if (i >= 0) {
            ServerConnection last = heap[--size];
            heap[size] = null;
            c.heapIndex = -1;
            if (i < size) {
                heap[i] = last;
                last.heapIndex = i;
                siftDown(i);
                siftUp(last.heapIndex);
            }
        }
        setWatched(position, false);
        shiftDown(position, tableSizeBefore);
    }

    /** Re-keys a connection after its state changed, and (un)watches it. */
    void refresh(ServerConnection c, int position) {
        touched++;
        long k = key(c);
        if (k != c.timerKey) {
            long old = c.timerKey;
            c.timerKey = k;
            if (k < old) {
                siftUp(c.heapIndex);
            } else {
                siftDown(c.heapIndex);
            }
        }
        setWatched(position, watches(c));
    }

    // ------------------------------------------------------------ queries

    boolean isWatched(int position) {
        return (watched[position >>> 6] & (1L << position)) != 0;
    }

    /** Adds the connections whose key is at or before {@code nowNs} to {@code due}, touching no other. */
    void collectExpired(long nowNs, java.util.List<ServerConnection> due) {
        if (size > 0) {
            collect(0, nowNs, due);
        }
    }

    private void collect(int i, long nowNs, java.util.List<ServerConnection> due) {
        ServerConnection c = heap[i];
        if (nowNs - c.timerKey < 0) {
            return; // the heap property: nothing below is due either
        }
        touched++;
        due.add(c);
        int child = 2 * i + 1;
        if (child < size) {
            collect(child, nowNs, due);
        }
        if (child + 1 < size) {
            collect(child + 1, nowNs, due);
        }
    }

    /** The watched bits, for the turn to merge with the expired ones. */
    long[] watchedBits() {
        return watched;
    }

    /** Next position at or after {@code from} whose bit is set in {@code bits} (below {@code limit}), or -1. */
    static int nextSet(long[] bits, int from, int limit) {
        if (from >= limit) {
            return -1;
        }
        int w = from >>> 6;
        long word = bits[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                int p = (w << 6) + Long.numberOfTrailingZeros(word);
                return p < limit ? p : -1;
            }
            if (++w >= bits.length || (w << 6) >= limit) {
                return -1;
            }
            word = bits[w];
        }
    }

    // ------------------------------------------------------------ internals

    private void setWatched(int position, boolean on) {
        long bit = 1L << position;
        int w = position >>> 6;
        boolean was = (watched[w] & bit) != 0;
        if (on && !was) {
            watched[w] |= bit;
            watchedCount++;
        } else if (!on && was) {
            watched[w] &= ~bit;
            watchedCount--;
        }
    }

    private void growBits(int position) {
        int words = (position >>> 6) + 1;
        if (words > watched.length) {
            watched = Arrays.copyOf(watched, Math.max(words, watched.length * 2));
        }
    }

    /** Bits above {@code position} move down by one (the table's list shifted). */
    private void shiftDown(int position, int tableSizeBefore) {
        for (int p = position; p < tableSizeBefore - 1; p++) {
            boolean next = isWatched(p + 1);
            long bit = 1L << p;
            if (next) {
                watched[p >>> 6] |= bit;
            } else {
                watched[p >>> 6] &= ~bit;
            }
        }
        if (tableSizeBefore - 1 >= 0) {
            watched[(tableSizeBefore - 1) >>> 6] &= ~(1L << (tableSizeBefore - 1));
        }
    }

    private void siftUp(int i) {
        ServerConnection c = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            ServerConnection p = heap[parent];
            if (p.timerKey <= c.timerKey) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = c;
        c.heapIndex = i;
    }

    private void siftDown(int i) {
        ServerConnection c = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1].timerKey < heap[child].timerKey) {
                child++;
            }
            if (c.timerKey <= heap[child].timerKey) {
                break;
            }
            heap[i] = heap[child];
            heap[i].heapIndex = i;
            i = child;
        }
        heap[i] = c;
        c.heapIndex = i;
    }
}
