package io.tailwire.sim;

import java.net.InetSocketAddress;

/**
 * An endpoint plugged into a {@link Simulation}: it receives datagrams at its address, says when it next
 * wants to run, and is called back then. It sends through {@link SimNetwork#send}. Everything runs on the
 * simulation's one thread at virtual time now.
 */
public interface SimNode extends Receiver {
    InetSocketAddress address();

    /** Short label for the trace. */
    default String name() {
        return SimNetwork.name(address());
    }

    /** Absolute virtual time of the next timer, Long.MAX_VALUE if none. Asked before every step. */
    long nextDeadline();

    /** Called once the clock reaches nextDeadline(). */
    void onTimer(long now);
}
