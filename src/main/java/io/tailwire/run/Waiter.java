package io.tailwire.run;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * How a socket loop waits: spinning and short parks right after work (a datagram is likely to follow
 * within microseconds), then, once idle for a while, blocking in the kernel until a datagram arrives or
 * the next deadline is due, so an idle agent or server costs next to no CPU.
 */
final class Waiter implements AutoCloseable {
    /** Idle turns spent spinning, yielding and parking briefly before blocking in select. */
    static final int SHORT_WAIT_TURNS = 200;
    /** Longest single block: bounds how late a missed wakeup can be noticed. */
    static final long MAX_BLOCK_MS = 100;

    private final Selector selector;
    private final BackoffIdleStrategy backoff;
    private int idleTurns;

    Waiter(DatagramChannel channel, long maxParkNs) throws IOException {
        selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
        backoff = new BackoffIdleStrategy(50, 10, 1_000, maxParkNs);
    }

    /** The loop did something: the next waits start short again. */
    void worked() {
        idleTurns = 0;
        backoff.reset();
    }

    /** Nothing to do until {@code deadlineNs} (absolute, System.nanoTime) or the next datagram. */
    void idle(long nowNs, long deadlineNs) throws IOException {
        long waitNs = deadlineNs - nowNs;
        if (waitNs <= 0) {
            return;
        }
        if (++idleTurns < SHORT_WAIT_TURNS || waitNs < 1_000_000) {
            backoff.idle();
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
