package io.tailwire.run;

import io.tailwire.agent.AgentCore;
import java.io.IOException;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Moves datagrams between an {@link AgentCore} and its connected, non-blocking UDP socket. One per thread
 * (it owns that thread's receive and send buffers); it may serve many agents, each with its own socket.
 */
public final class AgentIo {
    private final ByteBuffer rx = ByteBuffer.allocateDirect(65536);
    private final ByteBuffer tx = ByteBuffer.allocateDirect(65536);
    private final UnsafeBuffer rxView = new UnsafeBuffer(rx);
    private final UnsafeBuffer txView = new UnsafeBuffer(tx);
    private boolean unreachable;

    /** Hands every datagram waiting on {@code channel} to {@code core}; returns how many. */
    public int receive(DatagramChannel channel, AgentCore core, long now) throws IOException {
        unreachable = false;
        int count = 0;
        while (true) {
            rx.clear();
            int n;
            try {
                n = channel.read(rx);
            } catch (PortUnreachableException e) {
                unreachable = true; // ICMP: nothing listens there (yet); the connection's timers retry
                continue;
            }
            if (n <= 0) {
                return count;
            }
            core.onDatagram(rxView, 0, n, now);
            count++;
        }
    }

    /** Sends what {@code core} has to send now, at most {@code max} datagrams; returns how many. */
    public int send(DatagramChannel channel, AgentCore core, long now, int max) throws IOException {
        unreachable = false;
        int count = 0;
        int len;
        while (count < max && (len = core.poll(txView, now)) > 0) {
            tx.clear().limit(len);
            try {
                channel.write(tx);
            } catch (PortUnreachableException e) {
                unreachable = true;
            }
            count++;
        }
        return count;
    }

    /** The last {@link #receive} or {@link #send} was told that nothing listens at the server's address. */
    public boolean unreachable() {
        return unreachable;
    }
}
