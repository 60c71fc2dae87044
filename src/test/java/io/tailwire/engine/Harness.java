package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.Predicate;

import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.Wire;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Moves datagrams between one AgentConnection and a ServerEndpoint in virtual time, with seeded
 * loss, duplication and delay jitter (reordering), and records what the agent's events say.
 */
final class Harness implements AgentEventHandler {
    static final InetSocketAddress AGENT_ADDR = new InetSocketAddress("10.0.0.1", 40000);

    record Packet(long at, long seq, boolean toServer, byte[] bytes) {
    }

    final SplittableRandom rnd;
    final FakeStore store = new FakeStore();
    ServerEndpoint server;
    AgentConnection agent;
    long now = 1_000 * NANOS_PER_MILLI;
    long seq;
    double loss;
    double dup;
    long delayNs = 100_000;     // one-way base delay
    long jitterNs;
    long syncEveryNs = 0;       // 0: store is auto-durable
    long lastSync;
    Predicate<byte[]> dropToServer = b -> false;
    Predicate<byte[]> dropToAgent = b -> false;
    final PriorityQueue<Packet> net = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at)
        : Long.compare(a.seq, b.seq));
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
        rnd = new SplittableRandom(seed);
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
        if (loss > 0 && rnd.nextDouble() < loss) {
            return;
        }
        int copies = dup > 0 && rnd.nextDouble() < dup ? 2 : 1;
        for (int i = 0; i < copies; i++) {
            long jitter = jitterNs > 0 ? rnd.nextLong(jitterNs) : 0;
            net.add(new Packet(now + delayNs + jitter, seq++, toServer, bytes));
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
        if (!net.isEmpty()) {
            next = Math.min(next, net.peek().at);
        }
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
        while (!net.isEmpty() && net.peek().at <= now) {
            Packet p = net.poll();
            UnsafeBuffer b = new UnsafeBuffer(p.bytes);
            if (p.toServer) {
                server.onDatagram(AGENT_ADDR, b, 0, p.bytes.length, now);
            } else {
                agent.onDatagram(b, 0, p.bytes.length, now);
                AgentEventHandler.drain(agent, this);
            }
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
