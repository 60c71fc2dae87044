package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;

import java.net.InetSocketAddress;
import java.util.SplittableRandom;

import io.tailwire.fault.FaultLane;
import io.tailwire.fault.FaultModel;
import io.tailwire.proto.CloseCode;
import io.tailwire.sim.EventQueue;
import io.tailwire.sim.SimRandom;
import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Several AgentConnections sharing one ServerEndpoint in virtual time. Agent-to-server datagrams pass
 * one FIFO bottleneck (a rate in bytes per second and a drop-tail queue limit); everything also takes a
 * fixed one-way delay. Every agent always has data to send on one stream.
 *
 * <p>What happens to a datagram is decided by the one fault model ({@link FaultLane}s: random loss, then
 * the shared bottleneck and the delay) and arrivals wait in the simulator's {@link EventQueue}. Not a
 * {@code SimNetwork}: its links are per address pair, and this bottleneck is shared by every agent.
 */
final class MultiAgentNet {
    final class Peer implements AgentEventHandler {
        final int index;
        final InetSocketAddress addr;
        final AgentConnection conn;
        int streamId = -1;
        boolean open;
        long offset;
        long deliveredAtMark;

        Peer(int index, long seed) {
            this.index = index;
            this.addr = new InetSocketAddress("10.0.0." + (index + 1), 40000);
            this.conn = new AgentConnection(AgentConnectionConfig.defaults("agent-" + index)
                .withSendBufferBytes(4 << 20), now, seed);
        }

        @Override
        public void onConnected(long connectionId, long serverInstance) {
            streamId = conn.openStream("/log", 1, null, 0);
        }

        @Override
        public void onStreamReply(int streamId, StreamStatus status, long resumeOffset, long generation,
                                  String message) {
            open = status == StreamStatus.OK;
            offset = resumeOffset;
        }

        @Override
        public void onDurable(int streamId, long durableOffset) {
        }

        @Override
        public void onStreamClosed(int streamId, long durableLength) {
        }

        @Override
        public void onClosed(CloseCode code, String reason, long retryAfterMs) {
            throw new AssertionError("agent " + index + " closed: " + code + " " + reason);
        }

        long delivered() {
            FakeStore.Mem m = store.get("agent-" + index, "/log", 1);
            return m == null ? 0 : m.held;
        }
    }

    final FakeStore store = new FakeStore();
    final ServerEndpoint server;
    final Peer[] peers;
    final long bottleneckBytesPerSec;
    final long queueLimitBytes;
    final long delayNs;
    long syncEveryNs;
    long now = 1_000 * NANOS_PER_MILLI;
    private long lastSync;
    private final EventQueue arrivals = new EventQueue();
    // Random loss each way (its probability read from randomLoss on every send), then the shared bottleneck.
    private final FaultModel lossModel = FaultModel.perfect();
    private final FaultLane upLoss;
    private final FaultLane downLoss;
    private final FaultLane bottleneck;
    private final UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    private final byte[] payload;
    private final AckFlyweight ack = new AckFlyweight();
    private final UnsafeBuffer payloadBuffer;

    long maxQueueBytes;
    long queueDrops;
    long packetsIntoQueue;
    long maxAdvertisedAfterAllActive;
    long maxOccupancy;
    boolean trackOccupancy;
    private long heldSeen;
    long maxInFlightOverCwnd = Long.MIN_VALUE;
    /** Agent-to-server datagrams sent before this virtual time are lost (a burst); see {@link #lossBurst}. */
    long lossBurstUntil = Long.MIN_VALUE;
    long burstDrops;
    /** Probability that any datagram, either way, is lost at random (a noisy path; not the queue). */
    double randomLoss;
    long randomDrops;

    /** Drops every agent-to-server datagram for the next {@code durationNs}. */
    void lossBurst(long durationNs) {
        lossBurstUntil = now + durationNs;
    }

    MultiAgentNet(long seed, ServerEndpointConfig cfg, int agents, long bottleneckBytesPerSec, long queueLimitBytes,
                  long delayNs) {
        SimRandom random = new SimRandom(seed);
        this.upLoss = new FaultLane(lossModel, random.child("up loss"));
        this.downLoss = new FaultLane(lossModel, random.child("down loss"));
        // Long.MAX_VALUE bytes/s: no bottleneck (0 in the model); a queue limit of 0: unlimited.
        this.bottleneck = new FaultLane(FaultModel.perfect().delay(delayNs, 0)
            .bottleneck(bottleneckBytesPerSec == Long.MAX_VALUE ? 0 : bottleneckBytesPerSec,
                queueLimitBytes > 0 ? queueLimitBytes : Long.MAX_VALUE), random.child("bottleneck"));
        this.server = new ServerEndpoint(cfg, "secret".getBytes(), seed, store, ServerEvents.NONE);
        this.bottleneckBytesPerSec = bottleneckBytesPerSec;
        this.queueLimitBytes = queueLimitBytes;
        this.delayNs = delayNs;
        this.payload = new byte[Wire.MAX_MAX_DATAGRAM];
        new SplittableRandom(seed).nextBytes(payload);
        this.payloadBuffer = new UnsafeBuffer(payload);
        this.peers = new Peer[agents];
        for (int i = 0; i < agents; i++) {
            peers[i] = new Peer(i, seed * 31 + i);
        }
    }

    private void toServer(int agent, byte[] b) {
        if (now < lossBurstUntil) {
            burstDrops++; // a loss burst: the path drops everything for a while
            return;
        }
        lossModel.loss(randomLoss);
        if (upLoss.send(null, b.length, now, (copy, at, dup, reordered, corrupted) -> { }) != null) {
            randomDrops++;
            return;
        }
        if (bottleneckBytesPerSec != Long.MAX_VALUE) {
            packetsIntoQueue++;
        }
        FaultLane.Drop drop = bottleneck.send(null, b.length, now, (copy, at, dup, reordered, corrupted) ->
            arrivals.schedule(at, () -> server.onDatagram(peers[agent].addr, new UnsafeBuffer(b), 0, b.length, now)));
        maxQueueBytes = bottleneck.maxQueueBytes();
        if (drop != null) {
            queueDrops++;
        }
    }

    private void feed(Peer p) {
        if (!p.open) {
            return;
        }
        while (p.conn.sendSpace() > 0) {
            int n = (int) Math.min(p.conn.maxPayload(), p.conn.sendSpace());
            if (!p.conn.send(p.streamId, p.offset, payloadBuffer, 0, n)) {
                return;
            }
            p.offset += n;
        }
    }


    void step() {
        for (Peer p : peers) {
            feed(p);
            for (int guard = 0; guard < 100_000; guard++) {
                int len = p.conn.poll(out, now);
                AgentEventHandler.drain(p.conn, p);
                if (len == 0) {
                    break;
                }
                byte[] b = new byte[len];
                out.getBytes(0, b);
                if ((b[1] & 0xFF) == Wire.TYPE_DATA) {
                    maxInFlightOverCwnd = Math.max(maxInFlightOverCwnd,
                        p.conn.bytesInFlight() - p.conn.congestionWindow());
                }
                toServer(p.index, b);
            }
        }
        for (int guard = 0; guard < 100_000; guard++) {
            int len = server.poll(out, now);
            if (len == 0) {
                break;
            }
            byte[] b = new byte[len];
            out.getBytes(0, b);
            if ((b[1] & 0xFF) == Wire.TYPE_ACK && server.activeConnections() == peers.length) {
                ack.wrap(new UnsafeBuffer(b), 0, b.length);
                maxAdvertisedAfterAllActive = Math.max(maxAdvertisedAfterAllActive, ack.window());
            }
            InetSocketAddress to = server.lastDestination();
            lossModel.loss(randomLoss);
            if (downLoss.send(null, b.length, now, (copy, at, dup, reordered, corrupted) -> { }) != null) {
                randomDrops++;
                continue;
            }
            for (Peer p : peers) {
                if (p.addr.equals(to)) {
                    arrivals.schedule(now + delayNs, () -> {
                        p.conn.onDatagram(new UnsafeBuffer(b), 0, b.length, now);
                        AgentEventHandler.drain(p.conn, p);
                    });
                }
            }
        }
        if (trackOccupancy) {
            long occupancy = 0;
            for (ServerEndpoint.ConnectionInfo c : server.connections()) {
                occupancy += c.bufferedBytes();
                for (ServerEndpoint.StreamInfo s : c.streams()) {
                    occupancy += s.held() - s.durable();
                }
            }
            maxOccupancy = Math.max(maxOccupancy, occupancy);
        }
        long next = server.nextDeadline();
        for (Peer p : peers) {
            next = Math.min(next, p.conn.nextDeadline());
        }
        next = Math.min(next, arrivals.peekTime());
        if (syncEveryNs > 0) {
            next = Math.min(next, lastSync + syncEveryNs);
        }
        now = next <= now ? now + 1_000 : Math.min(next, now + 100 * NANOS_PER_MILLI);
        if (syncEveryNs > 0 && now - lastSync >= syncEveryNs) {
            lastSync = now;
            if (store.sync()) {
                server.onDurableAdvanced();
            }
        }
        if (store.autoDurable) {
            // Like the server's writer thread: tell the engine when durable offsets moved.
            long held = totalDelivered();
            if (held != heldSeen) {
                heldSeen = held;
                server.onDurableAdvanced();
            }
        }
        // Everything due is delivered at now, in arrival then send order.
        while (arrivals.peekTime() <= now) {
            EventQueue.run(arrivals.poll());
        }
    }

    void run(long ns) {
        long end = now + ns;
        while (now < end) {
            step();
        }
    }

    /** Starts a measurement interval: delivered bytes are counted from here. */
    void mark() {
        for (Peer p : peers) {
            p.deliveredAtMark = p.delivered();
        }
    }

    long deliveredSinceMark(int i) {
        return peers[i].delivered() - peers[i].deliveredAtMark;
    }

    long totalDelivered() {
        long n = 0;
        for (Peer p : peers) {
            n += p.delivered();
        }
        return n;
    }
}
