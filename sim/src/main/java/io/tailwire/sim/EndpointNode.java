package io.tailwire.sim;

import java.net.InetSocketAddress;

/**
 * Glue for a sans-IO endpoint (feed it datagrams and timer ticks, then poll it for datagrams to send):
 * after every input it drains {@link #poll} into the network. Subclasses wrap the real state machine.
 */
public abstract class EndpointNode implements SimNode {
    /** A datagram the endpoint wants sent. */
    public record Outgoing(InetSocketAddress to, byte[] data) {
    }

    protected final Simulation sim;
    private final InetSocketAddress address;
    private final int maxSendsPerFlush;

    /** maxSendsPerFlush bounds one drain, so an endpoint that never stops sending fails loudly. */
    protected EndpointNode(Simulation sim, InetSocketAddress address, int maxSendsPerFlush) {
        this.sim = sim;
        this.address = address;
        this.maxSendsPerFlush = maxSendsPerFlush;
    }

    protected EndpointNode(Simulation sim, InetSocketAddress address) {
        this(sim, address, 100_000);
    }

    @Override
    public final InetSocketAddress address() {
        return address;
    }

    @Override
    public final void onDatagram(InetSocketAddress from, byte[] data, long now) {
        receive(from, data, now);
        flush(now);
    }

    @Override
    public final void onTimer(long now) {
        timer(now);
        flush(now);
    }

    /** Hands an arrived datagram to the endpoint. */
    protected abstract void receive(InetSocketAddress from, byte[] data, long now);

    /** Tells the endpoint its deadline has come. */
    protected abstract void timer(long now);

    /** Next datagram the endpoint wants to send now, null when it has none. */
    protected abstract Outgoing poll(long now);

    /** Sends everything the endpoint has to send; call it too after feeding the endpoint anything else. */
    public final void flush(long now) {
        for (int i = 0; i < maxSendsPerFlush; i++) {
            Outgoing o = poll(now);
            if (o == null) {
                return;
            }
            sim.network().send(address, o.to(), o.data());
        }
        throw new IllegalStateException(name() + " still sending after " + maxSendsPerFlush
            + " datagrams at one instant\n" + sim.trace().dumpTail());
    }
}
