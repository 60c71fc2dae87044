package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import io.tailwire.fault.FaultModel;
import io.tailwire.proto.CloseCode;
import io.tailwire.sim.EventQueue;
import io.tailwire.sim.SimClock;
import io.tailwire.sim.SimNetwork;
import io.tailwire.sim.SimRandom;
import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.Wire;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Moves datagrams between one AgentConnection and a ServerEndpoint in virtual time over the simulator's
 * network ({@link SimNetwork}, so the one fault model), with seeded loss, duplication and delay jitter
 * (reordering), and records what the agent's events say.
 */
final class Harness implements AgentEventHandler {
    static final InetSocketAddress AGENT_ADDR = new InetSocketAddress("10.0.0.1", 40000);

    static final InetSocketAddress SERVER_ADDR = new InetSocketAddress("10.0.0.100", 7000);

    final FakeStore store = new FakeStore();
    ServerEndpoint server;
    AgentConnection agent;
    long now = 1_000 * NANOS_PER_MILLI;
    // The fault model of both directions, read from these on every send so a test may change them at any time.
    double loss;
    double dup;
    long delayNs = 100_000;     // one-way base delay
    long jitterNs;              // extra delay uniform in [0, jitterNs] per copy
    private final FaultModel faults = FaultModel.perfect();
    long syncEveryNs = 0;       // 0: store is auto-durable
    long lastSync;
    Predicate<byte[]> dropToServer = b -> false;
    Predicate<byte[]> dropToAgent = b -> false;
    private final SimClock clock = new SimClock(now);
    private final EventQueue arrivals = new EventQueue();
    private final SimNetwork net;
    final UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    final List<byte[]> sentByAgent = new ArrayList<>();
    final List<byte[]> sentByServer = new ArrayList<>();
    long windowViolations;

    // Event log.
    boolean connected;
    CloseCode closedCode;
    String closedReason;
    long closedAt = -1;
    long retryAfterMs;
    final List<String> log = new ArrayList<>();
    StreamStatus lastStatus;
    long lastResume = -1;
    int lastReplyStream;
    long closedDurable = -1;
    long maxDurableHint;

    Harness(long seed, ServerEndpointConfig scfg, AgentConnectionConfig acfg) {
        net = new SimNetwork(arrivals, clock, new SimRandom(seed), null);
        // Both directions read the one model that emit() sets from the fields above.
        net.link(AGENT_ADDR, SERVER_ADDR).setFaultModel(faults);
        net.link(SERVER_ADDR, AGENT_ADDR).setFaultModel(faults);
        net.register(SERVER_ADDR, (from, bytes, at) -> server.onDatagram(from, new UnsafeBuffer(bytes), 0,
            bytes.length, now));
        net.register(AGENT_ADDR, (from, bytes, at) -> {
            agent.onDatagram(new UnsafeBuffer(bytes), 0, bytes.length, now);
            AgentEventHandler.drain(agent, this);
        });
        server = new ServerEndpoint(scfg, "secret".getBytes(), seed ^ 0x5eed, store, ServerEvents.NONE);
        agent = new AgentConnection(acfg, now, seed);
    }

    Harness(long seed) {
        this(seed, ServerEndpointConfig.defaults(), AgentConnectionConfig.defaults("agent-1"));
    }

    private void emit(boolean toServer, byte[] bytes) {
        if (toServer ? dropToServer.test(bytes) : dropToAgent.test(bytes)) {
            return;
        }
        faults.loss(loss).duplicate(dup).delay(delayNs, jitterNs);
        clock.advanceTo(now);
        if (toServer) {
            net.send(AGENT_ADDR, SERVER_ADDR, bytes);
        } else {
            net.send(SERVER_ADDR, AGENT_ADDR, bytes);
        }
    }

    /** Polls both sides dry, then advances time to the next event. */
    void step() {
        AgentEventHandler.drain(agent, this); // what a test's own calls into the agent queued
        for (int guard = 0; guard < 100_000; guard++) {
            int len = agent.poll(out, now);
            AgentEventHandler.drain(agent, this);
            if (len == 0) {
                break;
            }
            byte[] b = new byte[len];
            out.getBytes(0, b);
            sentByAgent.add(b);
            // Exempt: the oldest lost packet resent with nothing else in flight (wire-spec 7.1).
            if (b[1] == Wire.TYPE_DATA && agent.bytesInFlight() > agent.peerWindow()
                && agent.bytesInFlight() > len - Wire.DATA_HEADER_LENGTH) {
                windowViolations++;
                if (System.getenv("HDEBUG") != null) {
                    System.err.println("violation at " + now + " inflight=" + agent.bytesInFlight() + " win="
                        + agent.peerWindow() + " stats=" + agent.stats());
                }
            }
            emit(true, b);
        }
        for (int guard = 0; guard < 100_000; guard++) {
            int len = server.poll(out, now);
            if (len == 0) {
                break;
            }
            byte[] b = new byte[len];
            out.getBytes(0, b);
            sentByServer.add(b);
            if (AGENT_ADDR.equals(server.lastDestination())) {
                emit(false, b);
            }
        }
        long next = Math.min(agent.nextDeadline(), server.nextDeadline());
        next = Math.min(next, arrivals.peekTime());
        if (syncEveryNs > 0) {
            next = Math.min(next, lastSync + syncEveryNs);
        }
        now = next <= now ? now + 1_000 : Math.min(next, now + 10_000 * NANOS_PER_MILLI);
        if (syncEveryNs > 0 && now - lastSync >= syncEveryNs) {
            lastSync = now;
            if (store.sync()) {
                server.onDurableAdvanced();
            }
        }
        // Everything due is delivered at now (the receivers above), in arrival then send order.
        clock.advanceTo(now);
        while (arrivals.peekTime() <= now) {
            EventQueue.run(arrivals.poll());
        }
    }

    boolean runUntil(java.util.function.BooleanSupplier done, long maxVirtualNs) {
        long end = now + maxVirtualNs;
        while (!done.getAsBoolean()) {
            if (now > end) {
                return false;
            }
            step();
        }
        return true;
    }

    void deliverRaw(byte[] bytes, boolean toServer) {
        UnsafeBuffer b = new UnsafeBuffer(bytes);
        if (toServer) {
            server.onDatagram(AGENT_ADDR, b, 0, bytes.length, now);
        } else {
            agent.onDatagram(b, 0, bytes.length, now);
            AgentEventHandler.drain(agent, this);
        }
    }

    static int type(byte[] b) {
        return b[1] & 0xFF;
    }

    long countSent(List<byte[]> list, int type) {
        return list.stream().filter(b -> type(b) == type).count();
    }

    @Override
    public void onConnected(long connectionId, long serverInstance) {
        connected = true;
        log.add("connected " + connectionId);
    }

    @Override
    public void onStreamReply(int streamId, StreamStatus status, long resumeOffset, long generation, String msg) {
        lastStatus = status;
        lastResume = resumeOffset;
        lastReplyStream = streamId;
        log.add("reply " + streamId + " " + status + " " + resumeOffset);
    }

    @Override
    public void onDurable(int streamId, long durableOffset) {
        maxDurableHint = Math.max(maxDurableHint, durableOffset);
    }

    @Override
    public void onStreamClosed(int streamId, long durableLength) {
        closedDurable = durableLength;
        log.add("closed " + streamId + " " + durableLength);
    }

    @Override
    public void onClosed(CloseCode code, String reason, long retryAfterMs) {
        closedCode = code;
        closedReason = reason;
        closedAt = now;
        this.retryAfterMs = retryAfterMs;
        log.add("onClosed " + code + " " + reason);
    }

    /**
     * Opens a stream, ships {@code data} from offset 0 in maxPayload segments as space allows, closes
     * it once everything is acknowledged, and runs until STREAM_CLOSED. Returns false on timeout.
     */
    boolean transfer(String path, byte[] data, long maxVirtualNs) {
        long end = now + maxVirtualNs;
        if (!runUntil(() -> connected || closedCode != null, maxVirtualNs) || !connected) {
            return false;
        }
        int sid = agent.openStream(path, 1, null, 0);
        if (!runUntil(() -> lastReplyStream == sid || closedCode != null, end - now) || lastStatus != StreamStatus.OK) {
            return false;
        }
        long offset = lastResume;
        boolean closing = false;
        UnsafeBuffer src = new UnsafeBuffer(data);
        while (closedDurable < 0) {
            if (now > end || closedCode != null) {
                return false;
            }
            while (offset < data.length && agent.sendSpace() > 0) {
                int n = (int) Math.min(Math.min(agent.maxPayload(), data.length - offset), agent.sendSpace());
                if (!agent.send(sid, offset, src, (int) offset, n)) {
                    break;
                }
                offset += n;
            }
            if (offset == data.length && !closing && agent.allAcked()) {
                agent.closeStream(sid, data.length);
                closing = true;
            }
            step();
        }
        return true;
    }
}
