package io.tailwire.run;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.locks.LockSupport;

/**
 * How a socket loop waits: spinning and short parks right after work (a datagram is likely to follow
 * within microseconds), then, once idle for a while, blocking in the kernel until a datagram arrives or
 * the next deadline is due, so an idle agent or server costs next to no CPU.
 */
final class Waiter implements AutoCloseable {
    /**
     * Idle turns spent spinning, yielding and parking briefly before blocking in select, for a loop with
     * sub-millisecond deadlines of its own (the agent's file scans): select's timeout is in whole ms.
     */
    static final int SHORT_WAIT_TURNS = 200;
    /** Longest single block: bounds how late a missed wakeup can be noticed. */
    static final long MAX_BLOCK_MS = 100;

    static final int SPINS = 50;
    static final int YIELDS = 10;
    static final long MIN_PARK_NS = 1_000;

    private final Selector selector;
    private final long maxParkNs;
    private final int shortWaitTurns;
    private long parkNs = MIN_PARK_NS;
    private int idleTurns;

    /**
     * @param shortWaitTurns idle turns before blocking in select: {@link #SHORT_WAIT_TURNS}, or
     *                       SPINS + YIELDS for a loop woken only by datagrams and ms-scale deadlines (the
     *                       server: a park does not end when a datagram arrives, a select does)
     */
    Waiter(DatagramChannel channel, long maxParkNs, int shortWaitTurns) throws IOException {
        selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
        this.maxParkNs = maxParkNs;
        this.shortWaitTurns = shortWaitTurns;
    }

    /** The loop did something: the next waits start short again. */
    void worked() {
        idleTurns = 0;
        parkNs = MIN_PARK_NS;
    }

    /** Nothing to do until {@code deadlineNs} (absolute, System.nanoTime) or the next datagram. */
    void idle(long nowNs, long deadlineNs) throws IOException {
        long waitNs = deadlineNs - nowNs;
        if (waitNs <= 0) {
            return;
        }
        if (++idleTurns <= shortWaitTurns || waitNs < 1_000_000) {
            if (idleTurns <= SPINS) {
                Thread.onSpinWait();
            } else if (idleTurns <= SPINS + YIELDS) {
                Thread.yield();
            } else {
                // Doubling parks, but never past the deadline: a file scan due in 200 µs must not wait out
                // a 500 µs park (Agrona's BackoffIdleStrategy cannot be told the deadline).
                LockSupport.parkNanos(Math.min(parkNs, waitNs));
                parkNs = Math.min(maxParkNs, parkNs * 2);
            }
            return;
        }
        selector.select(Math.min(MAX_BLOCK_MS, waitNs / 1_000_000));
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
