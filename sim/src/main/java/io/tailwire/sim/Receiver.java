package io.tailwire.sim;

import java.net.InetSocketAddress;

/** Whatever listens at a simulated address: called when a datagram arrives, at virtual time now. */
@FunctionalInterface
public interface Receiver {
    void onDatagram(InetSocketAddress from, byte[] data, long now);
}
