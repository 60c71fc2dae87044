package io.tailwire.run;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.locks.LockSupport;

/**
 * How a socket loop waits: short parks (never past the next deadline) while deadlines are close or the loop
 * has just been busy, then, once idle for a while, blocking in the kernel until a datagram arrives or the
 * next deadline is due, so an idle agent or server costs next to no CPU.
 *
 * <p>It never spins or yields. On the 2-core bench machine 50 spins, 10 yields and parks doubling from 1 µs
 * after every bit of work took the CPU from the other process and from the application writing the log:
 * parking at once (200 µs, doubling) measured 150-168 MB/s where spinning gave 138, and the p99 at 10k
 * lines/s fell from 5.4-10 ms to 3.8-4.7 ms (BENCHMARKS.md). An agent shares its host with the
 * application it ships logs for.
 */
final class Waiter implements AutoCloseable {
    /**
     * Idle turns spent parking before blocking in select, for a loop with sub-millisecond deadlines of its
     * own (the agent's file scans): select's timeout is in whole ms.
     */
    static final int SHORT_WAIT_TURNS = 200;
    /** Longest single block: bounds how late a missed wakeup can be noticed. */
    static final long MAX_BLOCK_MS = 100;
    /** First park after work; parks double from here up to the loop's longest. */
    static final long FIRST_PARK_NS = 200_000;

    private final Selector selector;
    private final long maxParkNs;
    private final int shortWaitTurns;
    private long parkNs = FIRST_PARK_NS;
    private int idleTurns;

    /**
     * @param maxParkNs      longest single park (at least {@link #FIRST_PARK_NS})
     * @param shortWaitTurns idle turns before blocking in select: {@link #SHORT_WAIT_TURNS}, or 0 for a loop
     *                       woken only by datagrams and ms-scale deadlines (the server: a park does not end
     *                       when a datagram arrives, a select does)
     */
    Waiter(DatagramChannel channel, long maxParkNs, int shortWaitTurns) throws IOException {
        selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
        this.maxParkNs = maxParkNs;
        this.shortWaitTurns = shortWaitTurns;
    }

    /** One more socket whose datagrams end a wait (a server listening on several local addresses). */
    void add(DatagramChannel channel) throws IOException {
        channel.register(selector, SelectionKey.OP_READ);
    }

    /** The loop did something: the next waits start short again. */
    void worked() {
        idleTurns = 0;
        parkNs = FIRST_PARK_NS;
    }

    /** Nothing to do until {@code deadlineNs} (absolute, System.nanoTime) or the next datagram. */
    void idle(long nowNs, long deadlineNs) throws IOException {
        long waitNs = deadlineNs - nowNs;
        if (waitNs <= 0) {
            return;
        }
        if (++idleTurns <= shortWaitTurns || waitNs < 1_000_000) {
            // Never past the deadline: a file scan due in 200 µs must not wait out a 500 µs park.
            LockSupport.parkNanos(Math.min(parkNs, waitNs));
            parkNs = Math.min(maxParkNs, parkNs * 2);
            return;
        }
        selector.select(Math.min(MAX_BLOCK_MS, waitNs / 1_000_000));
        selector.selectedKeys().clear();
    }

    /**
     * Blocks until a datagram arrives, or for as long as {@code deadlineNs} allows but at least 1 ms (select's
     * unit): for a loop that cannot go on before its peer answers, so a sub-ms deadline is worth missing by
     * less than a millisecond rather than parking through the answer.
     */
    void awaitDatagram(long nowNs, long deadlineNs) throws IOException {
        long waitNs = deadlineNs - nowNs;
        if (waitNs <= 0) {
            return;
        }
        selector.select(Math.max(1, Math.min(MAX_BLOCK_MS, waitNs / 1_000_000)));
        selector.selectedKeys().clear();
    }

    /** Ends a block early: another thread has news for the loop. */
    void wakeup() {
        selector.wakeup();
    }

    @Override
    public void close() throws IOException {
        selector.close();
    }
}
