package io.tailwire.sim.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static io.tailwire.io.Units.NANOS_PER_SECOND;

import io.tailwire.config.Configuration;
import io.tailwire.engine.AgentConnection;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.AgentEvent;
import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;
import io.tailwire.proto.Welcome;
import io.tailwire.sim.EndpointNode;
import io.tailwire.sim.Link;
import io.tailwire.sim.SimRandom;
import io.tailwire.sim.Simulation;
import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.Checksum;
import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.DataFlyweight;
import io.tailwire.wire.HeaderFlyweight;
import io.tailwire.wire.Wire;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

import com.google.protobuf.MessageLite;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Runs one {@link AgentConnection} against one {@link ServerEndpoint} over a faulty {@link io.tailwire.sim.SimNetwork}
 * in virtual time and judges the result. A tiny application on the agent side opens the scenario's streams,
 * queues their (seeded pseudo-random) bytes in seeded segment sizes as send space allows, closes each stream
 * after its last byte, and closes the connection once every STREAM_CLOSED came back.
 *
 * <p>Checked while running (the first failure ends the run):
 * <ul>
 * <li>window: on every first transmission of a DATA packet, the payload bytes of distinct packets sent and
 * not yet acknowledged by any ACK the agent received (decoded independently from the datagrams reaching the
 * agent) never exceed the window of the newest ACK (highest cumulative, then latest), or WELCOME's initial
 * window before the first ACK (wire-spec 7.1); also the agent's own bytesInFlight() &lt;= peerWindow();</li>
 * <li>sender rules (wire-spec 4): packet numbers consecutive, below cumulative + 1024, a retransmission
 * carries the same stream, offset and length, each stream's DATA in offset order without gaps, every payload
 * equal to the source bytes at its offset;</li>
 * <li>store ({@link MemoryStreamStore}): appends contiguous, never a byte twice;</li>
 * <li>no ACK acknowledges a packet never sent; durable hints never exceed the stream's length;</li>
 * <li>liveness: the connection is never closed by anyone but the application, no endpoint spins (deadline
 * "now" without sending), everything completes within {@link #boundNanos}.</li>
 * </ul>
 * At the end: every stream's stored bytes equal the source, STREAM_CLOSED reported the full length, every
 * corrupted datagram was rejected by the CRC, and the server forgot the connection after the agent closed.
 */
public final class EngineRun {
    public static final InetSocketAddress AGENT = new InetSocketAddress("10.0.0.1", 40000);
    public static final InetSocketAddress SERVER = new InetSocketAddress("10.0.0.2", 7000);
    public static final String AGENT_ID = "agent-1";
    /**
     * The one deliberate difference from the shipped configuration ({@link Configuration}): connect and idle
     * timeouts longer than any partition a scenario may hold (30 s), so the one connection survives it. This
     * simulator checks one connection's transfer; reconnecting after a timeout is the system simulator's, which
     * runs the shipped timeouts.
     */
    static final long IDLE_TIMEOUT_NS = 120 * NANOS_PER_SECOND;
    static final long MAX_RTO_NS = Configuration.MAX_RTO_NS;
    static final long MAX_ACK_DELAY_NS = Configuration.MAX_ACK_DELAY_NS;
    /** Consecutive wake-ups at one instant without any datagram sent before we call it a spin. */
    static final int SPIN_LIMIT = 10_000;

    /** Counts timer calls at one instant that send nothing: an endpoint stuck on a deadline of "now". */
    private static final class SpinGuard {
        private long at = Long.MIN_VALUE;
        private int count;

        /** A timer fired at {@code now}; true once it has fired there more than SPIN_LIMIT times in a row. */
        boolean timerAt(long now) {
            if (now != at) {
                at = now;
                count = 0;
                return false;
            }
            return ++count > SPIN_LIMIT;
        }

        void sent() {
            count = 0;
        }
    }
    static final long MAX_STEPS = 20_000_000;

    /** The outcome of one run. */
    public record Result(EngineScenario scenario, boolean passed, String violation, long completionNanos,
                         long boundNanos, long retransmissions, long timeouts, long dataPacketsSent,
                         long maxObservedInFlight, long minWindowSeen, long pingsSent, long staleReopens,
                         long corruptedDelivered, long steps, String traceHash, String traceTail) {
        /** One line: pass/fail, time against bound, counters, trace hash. */
        public String summary() {
            return (passed ? "PASS" : "FAIL") + " seed=" + scenario.seed() + " bytes=" + scenario.totalBytes()
                + " completed=" + (completionNanos < 0 ? "never" : fmt(completionNanos)) + " bound=" + fmt(boundNanos)
                + " data=" + dataPacketsSent + " retx=" + retransmissions + " rto-expiries=" + timeouts
                + " max-in-flight=" + maxObservedInFlight + " min-window=" + minWindowSeen + " pings=" + pingsSent
                + " corrupted=" + corruptedDelivered + " stale-reopens=" + staleReopens + " steps=" + steps + " trace=" + traceHash.substring(0, 16)
                + (passed ? "" : " violation: " + violation);
        }

        /** What a failing property prints: seed, fault mix, replay command, first violation, trace tail. */
        public String failureReport() {
            return "engine simulation failed\n  seed: " + scenario.seed() + "\n  fault mix: " + scenario.faultMix()
                + "\n  violation: " + violation + "\n  replay: " + scenario.replayCommand() + "\n  " + summary()
                + "\n" + traceTail;
        }
    }

    private final EngineScenario sc;
    private final Simulation sim;
    private final MemoryStreamStore store;
    private final ServerEndpoint server;
    private final AgentConnection agent;
    private final Events events = new Events();
    private final AgentNode agentNode;
    private final ServerNode serverNode;
    private final long start;
    private final long bound;
    private final int maxPayload;

    private final AppStream[] streams;
    private final Map<Integer, AppStream> bySid = new HashMap<>();
    private boolean opened;
    private int closedStreams;
    private boolean appClosed;
    private long completedAt = -1;
    private String violation;

    // Independent view of the sender, from the datagrams it sends and the ACKs it receives.
    private final NavigableMap<Long, Integer> unacked = new TreeMap<>();
    private final Map<Long, long[]> firstTx = new HashMap<>();
    private long outstanding;
    private long maxOutstanding;
    private long maxPnSent = -1;
    private long highestCum = -1;
    private long window = -1;
    private long minWindow = Long.MAX_VALUE;
    private long pings;
    private int crcRejectedAtAgent;
    private int crcRejectedAtOpenAgent; // a CLOSED AgentConnection ignores datagrams without counting them
    private int crcRejectedAtServer;
    private int handshakeDroppedUp;
    private int handshakeDroppedDown;

    private final HeaderFlyweight header = new HeaderFlyweight();
    private final DataFlyweight data = new DataFlyweight();
    private final AckFlyweight ack = new AckFlyweight();

    private static final class AppStream {
        final int index;
        final String path;
        final byte[] source;
        final UnsafeBuffer buffer;
        final int[] segments;
        int nextSegment;
        int sid = -1;
        boolean open;
        boolean closeRequested;
        long queued;
        long sentOffset;
        long durableHint;
        long closedDurable = -1;

        AppStream(int index, byte[] source, int[] segments) {
            this.index = index;
            this.path = "/var/log/app-" + index + ".log";
            this.source = source;
            this.buffer = new UnsafeBuffer(source);
            this.segments = segments;
        }
    }

    public static Result run(EngineScenario scenario) {
        return new EngineRun(scenario, null).execute();
    }

    /** Like {@link #run(EngineScenario)}, also passing every trace line to echo as it happens. */
    public static Result run(EngineScenario scenario, java.util.function.Consumer<String> echo) {
        return new EngineRun(scenario, echo).execute();
    }

    /**
     * The virtual-time bound within which every stream must be closed (STREAM_CLOSED received), from the
     * moment the agent starts. A serial worst case, deliberately generous (it is a liveness bound, not a
     * performance target):
     * <pre>
     *   attempt = maxRTO + maxRTT + syncInterval            one try of anything: wait out a full back-off
     *   q       = (1 - lossUp) (1 - lossDown)                a request and its answer both get through
     *   items   = dataSegments + 2 streams + 2 + 2 handshakeDrops
     *   bound   = partition + 3 items / q * attempt + (10 + 4 maxMeanBurst) * attempt + wireBytes / bandwidth
     * </pre>
     * loss per direction includes Gilbert-Elliott's long-run loss and corruption; maxRTT is the largest
     * one-way delay (delay + jitter + reorder + a full bottleneck queue) both ways plus max_ack_delay.
     */
    public static long boundNanos(EngineScenario sc) {
        int segments = 0;
        for (int i = 0; i < sc.streams(); i++) {
            segments += segments(sc, i).length;
        }
        double q = (1 - sc.up().effectiveLoss()) * (1 - sc.down().effectiveLoss());
        q = Math.max(q, 1e-3);
        long rttMax = sc.up().maxOneWayNanos(sc.datagram()) + sc.down().maxOneWayNanos(sc.datagram())
            + MAX_ACK_DELAY_NS;
        double attempt = MAX_RTO_NS + rttMax + sc.syncUs() * 1000.0;
        double items = segments + 2.0 * sc.streams() + 2 + 2.0 * sc.handshakeDrops();
        double burst = Math.max(sc.up().meanBurst(), sc.down().meanBurst());
        double bw = 0;
        long minBw = Math.min(sc.up().bandwidth() == 0 ? Long.MAX_VALUE : sc.up().bandwidth(),
            sc.down().bandwidth() == 0 ? Long.MAX_VALUE : sc.down().bandwidth());
        if (minBw != Long.MAX_VALUE) {
            long wireBytes = sc.totalBytes() + (long) (segments + 10) * Wire.DATA_HEADER_LENGTH + 4L * 1200;
            bw = wireBytes * 1e9 / minBw / q;
        }
        double b = sc.partitionMs() * (double) NANOS_PER_MILLI + 3 * items / q * attempt + (10 + 4 * burst) * attempt + bw;
        return (long) Math.min(b, 1e17);
    }

    /** Segment sizes the application queues for stream i: half full datagrams, half random 1..max. */
    static int[] segments(EngineScenario sc, int stream) {
        int maxPayload = sc.datagram() - Wire.DATA_HEADER_LENGTH;
        SimRandom r = new SimRandom(sc.seed()).child("segments " + stream);
        int[] out = new int[16];
        int n = 0;
        long left = sc.bytesPerStream();
        while (left > 0) {
            int len = r.chance(0.5) ? maxPayload : 1 + r.nextInt(maxPayload);
            len = (int) Math.min(len, left);
            if (n == out.length) {
                out = Arrays.copyOf(out, 2 * n);
            }
            out[n++] = len;
            left -= len;
        }
        return Arrays.copyOf(out, n);
    }

    /** The bytes stream i carries: a function of the seed alone. */
    public static byte[] source(EngineScenario sc, int stream) {
        byte[] b = new byte[sc.bytesPerStream()];
        new SimRandom(sc.seed()).child("source " + stream).nextBytes(b);
        return b;
    }

    private EngineRun(EngineScenario sc, java.util.function.Consumer<String> echo) {
        this.sc = sc;
        this.sim = new Simulation(sc.seed(), 400);
        sim.trace().setEcho(echo);
        this.start = sim.now();
        this.bound = boundNanos(sc);
        this.maxPayload = sc.datagram() - Wire.DATA_HEADER_LENGTH;
        this.store = new MemoryStreamStore(sc.syncUs() == 0, true);
        sim.network().link(AGENT, SERVER).setFaultModel(sc.up().toFaultModel());
        sim.network().link(SERVER, AGENT).setFaultModel(sc.down().toFaultModel());
        if (sc.partitionMs() > 0) {
            long from = start + sc.partitionStartMs() * NANOS_PER_MILLI;
            sim.network().partition(AGENT, SERVER, from, from + sc.partitionMs() * NANOS_PER_MILLI);
        }
        streams = new AppStream[sc.streams()];
        for (int i = 0; i < streams.length; i++) {
            streams[i] = new AppStream(i, source(sc, i), segments(sc, i));
        }
        // The shipped configuration, with the scenario's datagram size and buffers and the long timeouts above.
        ServerEndpointConfig d = ServerEndpointConfig.defaults();
        ServerEndpointConfig scfg = new ServerEndpointConfig(sc.datagram(), d.maxConnections(), sc.budget(),
            sc.initialWindow(), d.maxStreamsPerConnection(), IDLE_TIMEOUT_NS, d.keepaliveNs(), d.maxAckDelayNs(),
            d.tokenValidityNs(), d.busyRetryAfterMs(), d.appendRetryNs());
        AgentConnectionConfig shipped = AgentConnectionConfig.defaults(AGENT_ID);
        AgentConnectionConfig acfg = shipped.withMaxDatagramSize(sc.datagram())
            .withTimeouts(IDLE_TIMEOUT_NS, IDLE_TIMEOUT_NS, shipped.keepaliveNs());
        byte[] secret = new byte[32];
        sim.random().child("secret").nextBytes(secret);
        server = new ServerEndpoint(scfg, secret, sim.random().child("server").nextLong(), store, null);
        agent = new AgentConnection(acfg, start, sim.random().child("agent").nextLong());
        agentNode = new AgentNode();
        serverNode = new ServerNode();
        sim.addNode(agentNode);
        sim.addNode(serverNode);
    }

    private Result execute() {
        if (sc.syncUs() > 0) {
            scheduleSync();
        }
        Simulation.Result r;
        try {
            r = sim.runUntil(() -> violation != null || completedAt >= 0, start + bound, MAX_STEPS);
            if (violation == null && completedAt < 0) {
                fail(r.outcome() == Simulation.Outcome.STEP_LIMIT ? "step limit " + MAX_STEPS + " reached (livelock?)"
                    : "not complete within the bound " + fmt(bound) + " (" + r.outcome() + "; " + progress() + ")");
            }
            if (violation == null) {
                agent.close(sim.now());
                appClosed = true;
                agentNode.flush(sim.now());
                // CLOSE may be lost (3 copies); then the server's idle timeout must end the connection.
                sim.runUntil(() -> violation != null || server.connectionCount() == 0,
                    sim.now() + IDLE_TIMEOUT_NS + 10 * NANOS_PER_SECOND, MAX_STEPS);
                if (violation == null && server.connectionCount() != 0) {
                    fail("server still holds the connection " + fmt(IDLE_TIMEOUT_NS + 10 * NANOS_PER_SECOND)
                        + " after the agent closed it");
                }
            }
            if (violation == null) {
                finalChecks();
            }
        } catch (RuntimeException | AssertionError e) {
            fail("exception: " + e);
        }
        AgentConnection.Stats st = agent.stats();
        return new Result(sc, violation == null, violation, completedAt < 0 ? -1 : completedAt - start, bound,
            st.retransmissions(), st.timeouts(), st.dataPacketsSent(), maxOutstanding,
            minWindow == Long.MAX_VALUE ? -1 : minWindow, pings, Math.max(0, store.opens() - sc.streams()),
            sim.network().link(AGENT, SERVER).stats().corrupted() + sim.network().link(SERVER, AGENT).stats().corrupted(),
            sim.totalSteps(),
            sim.trace().hashHex(), sim.trace().dumpTail());
    }

    private void finalChecks() {
        for (String v : store.violations()) {
            fail("store: " + v);
            return;
        }
        for (AppStream s : streams) {
            MemoryStreamStore.Stream st = store.get(AGENT_ID, s.path, 1);
            if (st == null) {
                fail(s.path + " never reached the store");
                return;
            }
            byte[] got = st.content();
            if (!Arrays.equals(got, s.source)) {
                int i = Arrays.mismatch(got, s.source);
                fail(s.path + ": stored " + got.length + " bytes, sent " + s.source.length + ", first difference at "
                    + i);
                return;
            }
            if (st.durable() != s.source.length || s.closedDurable != s.source.length) {
                fail(s.path + ": durable " + st.durable() + ", STREAM_CLOSED said " + s.closedDurable + ", length "
                    + s.source.length);
                return;
            }
        }
        Link.Stats upStats = sim.network().link(AGENT, SERVER).stats();
        Link.Stats downStats = sim.network().link(SERVER, AGENT).stats();
        if (crcRejectedAtServer != upStats.corrupted() || crcRejectedAtAgent != downStats.corrupted()) {
            fail("corrupted copies delivered up/down " + upStats.corrupted() + "/" + downStats.corrupted()
                + " but CRC rejected " + crcRejectedAtServer + "/" + crcRejectedAtAgent);
            return;
        }
        if (server.stats().datagramsDropped() < upStats.corrupted()
            || agent.stats().datagramsDropped() < crcRejectedAtOpenAgent) {
            fail("an endpoint dropped fewer datagrams than arrived corrupted: server " + server.stats()
                .datagramsDropped() + " < " + upStats.corrupted() + " or agent " + agent.stats().datagramsDropped()
                + " < " + crcRejectedAtOpenAgent);
        }
    }

    private String progress() {
        StringBuilder sb = new StringBuilder("agent " + agent.state());
        for (AppStream s : streams) {
            MemoryStreamStore.Stream st = store.get(AGENT_ID, s.path, 1);
            sb.append(", ").append(s.path).append(" queued ").append(s.queued).append('/').append(s.source.length)
                .append(" stored ").append(st == null ? 0 : st.held()).append(" closed ").append(s.closedDurable);
        }
        return sb.append(", in flight ").append(agent.bytesInFlight()).append(", window ").append(agent.peerWindow())
            .toString();
    }

    private void fail(String what) {
        if (violation == null) {
            violation = "at +" + fmt(sim.now() - start) + ": " + what;
            sim.log("check", "VIOLATION " + what);
        }
    }

    private void scheduleSync() {
        sim.after(sc.syncUs() * 1000, () -> {
            if (store.sync()) {
                sim.log("store", "sync");
                server.onDurableAdvanced();
                serverNode.flush(sim.now());
            }
            if (!appClosed && violation == null) {
                scheduleSync();
            }
        });
    }

    // ------------------------------------------------------------------ the application on the agent

    private void app(long now) {
        if (appClosed || agent.state() != AgentConnection.State.CONNECTED) {
            return;
        }
        if (!opened) {
            opened = true;
            for (AppStream s : streams) {
                s.sid = agent.openStream(s.path, 1, null, 0);
                if (s.sid < 0) {
                    fail("openStream refused for " + s.path);
                    return;
                }
                bySid.put(s.sid, s);
                sim.log("app", "open " + s.path + " as stream " + s.sid);
            }
        }
        boolean progress = true;
        while (progress) {
            progress = false;
            for (AppStream s : streams) {
                if (!s.open) {
                    continue;
                }
                if (s.nextSegment < s.segments.length) {
                    int len = s.segments[s.nextSegment];
                    if (agent.sendSpace() >= len && agent.send(s.sid, s.queued, s.buffer, (int) s.queued, len)) {
                        s.queued += len;
                        s.nextSegment++;
                        progress = true;
                    }
                }
                if (s.nextSegment == s.segments.length && !s.closeRequested) {
                    s.closeRequested = true;
                    agent.closeStream(s.sid, s.source.length);
                    sim.log("app", "close stream " + s.sid + " at " + s.source.length);
                }
            }
        }
    }

    /** The application's side of the agent: takes the connection's queued events after each engine call. */
    private final class Events {
        void drain() {
            for (AgentEvent e = agent.pollEvent(); e != null; e = agent.pollEvent()) {
                if (e instanceof AgentEvent.Durable d) {
                    onDurable(d.streamId(), d.offset());
                } else if (e instanceof AgentEvent.StreamReplied r) {
                    onStreamReply(r.streamId(), r.status(), r.resumeOffset(), r.generation(), r.message());
                } else if (e instanceof AgentEvent.StreamClosed c) {
                    onStreamClosed(c.streamId(), c.durableLength());
                } else if (e instanceof AgentEvent.Connected c) {
                    onConnected(c.connectionId(), c.serverInstance());
                } else if (e instanceof AgentEvent.Closed c) {
                    onClosed(c.code(), c.reason(), c.retryAfterMs());
                }
            }
        }

        void onConnected(long connectionId, long serverInstance) {
            sim.log("app", "connected " + Long.toHexString(connectionId));
        }

        void onStreamReply(int streamId, StreamStatus status, long resumeOffset, long generation,
                                  String message) {
            AppStream s = bySid.get(streamId);
            sim.log("app", "reply " + streamId + " " + status + " resume " + resumeOffset);
            if (s == null || s.open) {
                fail("STREAM_REPLY for " + streamId + " delivered to the application twice or unasked");
                return;
            }
            if (status != StreamStatus.OK || resumeOffset != 0) {
                fail("stream " + streamId + " answered " + status + " resume " + resumeOffset + " (fresh store: OK 0)");
                return;
            }
            s.open = true;
        }

        void onDurable(int streamId, long durableOffset) {
            AppStream s = bySid.get(streamId);
            if (s == null || durableOffset > s.source.length || durableOffset > s.queued) {
                fail("durable hint " + durableOffset + " for stream " + streamId + " beyond what was sent");
                return;
            }
            s.durableHint = Math.max(s.durableHint, durableOffset);
        }

        void onStreamClosed(int streamId, long durableLength) {
            AppStream s = bySid.get(streamId);
            sim.log("app", "closed " + streamId + " durable " + durableLength);
            if (s == null || !s.closeRequested || s.closedDurable >= 0) {
                fail("STREAM_CLOSED for " + streamId + " unasked or twice");
                return;
            }
            if (durableLength != s.source.length) {
                fail("STREAM_CLOSED " + streamId + " durable " + durableLength + " != final " + s.source.length);
                return;
            }
            s.closedDurable = durableLength;
            if (++closedStreams == streams.length) {
                completedAt = sim.now();
            }
        }

        void onClosed(CloseCode code, String reason, long retryAfterMs) {
            fail("connection closed under the application: " + code + " " + reason);
        }
    }

    // ------------------------------------------------------------------ independent checks on the wire

    /** A datagram the agent is about to send. */
    private void observeUp(byte[] b) {
        UnsafeBuffer buf = new UnsafeBuffer(b);
        header.wrap(buf, 0, b.length);
        int rc = header.validate(Math.max(sc.datagram(), Wire.MIN_HELLO_LENGTH));
        if (rc != Wire.OK) {
            fail("agent sent an invalid datagram: " + Wire.errorName(rc));
            return;
        }
        if (header.type() == Wire.TYPE_PING) {
            pings++;
        }
        if (header.type() != Wire.TYPE_DATA) {
            return;
        }
        data.wrap(buf, 0, b.length);
        long pn = data.packetNumber();
        int sid = data.streamId();
        long off = data.streamOffset();
        int len = data.payloadLength();
        AppStream s = bySid.get(sid);
        if (s == null || !s.open) {
            fail("DATA pn " + pn + " for stream " + sid + " that is not open");
            return;
        }
        if (off + len > s.source.length) {
            fail("DATA pn " + pn + " beyond the end of stream " + sid);
            return;
        }
        for (int i = 0; i < len; i++) {
            if (buf.getByte(data.payloadIndex() + i) != s.source[(int) (off + i)]) {
                fail("DATA pn " + pn + " carries wrong bytes at stream offset " + (off + i));
                return;
            }
        }
        if (pn <= maxPnSent) {
            long[] first = firstTx.get(pn);
            if (first == null || first[0] != sid || first[1] != off || first[2] != len) {
                fail("retransmission of pn " + pn + " differs from its first transmission");
            }
            return;
        }
        if (pn != maxPnSent + 1) {
            fail("packet number jumped from " + maxPnSent + " to " + pn);
            return;
        }
        if (pn >= Math.max(highestCum, 0) + Wire.SACK_RANGE) {
            fail("pn " + pn + " beyond cumulative " + highestCum + " + " + Wire.SACK_RANGE);
            return;
        }
        if (off != s.sentOffset) {
            fail("stream " + sid + " DATA at offset " + off + ", expected " + s.sentOffset + " (gap or repeat)");
            return;
        }
        s.sentOffset += len;
        maxPnSent = pn;
        firstTx.put(pn, new long[] {sid, off, len});
        unacked.put(pn, len);
        outstanding += len;
        maxOutstanding = Math.max(maxOutstanding, outstanding);
        if (outstanding > window) {
            fail("bytes in flight " + outstanding + " exceed the advertised window " + window + " (pn " + pn + ")");
        } else if (agent.bytesInFlight() > agent.peerWindow()) {
            fail("agent reports bytes in flight " + agent.bytesInFlight() + " > its peer window "
                + agent.peerWindow());
        }
    }

    /** A datagram arriving at the agent, before the agent sees it. */
    private void observeDown(byte[] b) {
        UnsafeBuffer buf = new UnsafeBuffer(b);
        if (!Checksum.verify(buf, 0, b.length)) {
            crcRejectedAtAgent++;
            if (agent.state() != AgentConnection.State.CLOSED) {
                crcRejectedAtOpenAgent++;
            }
            return;
        }
        header.wrap(buf, 0, b.length);
        if (header.validate(Math.max(sc.datagram(), Wire.MIN_HELLO_LENGTH)) != Wire.OK) {
            return;
        }
        int type = header.type();
        if (type == Wire.TYPE_WELCOME && agent.state() == AgentConnection.State.CONNECTING && window < 0) {
            MessageLite body = ControlCodec.decodeBody(type, buf, 0, b.length);
            if (body instanceof Welcome w) {
                window = w.getInitialWindow();
                minWindow = Math.min(minWindow, window);
            }
            return;
        }
        if (type != Wire.TYPE_ACK || agent.state() != AgentConnection.State.CONNECTED
            || header.connectionId() != agent.connectionId()) {
            return;
        }
        ack.wrap(buf, 0, b.length);
        if (ack.validate(Wire.MAX_MAX_DATAGRAM) != Wire.OK) {
            return;
        }
        long cum = ack.cumulative();
        if (cum > maxPnSent + 1) {
            fail("ACK cumulative " + cum + " acknowledges packets never sent (highest " + maxPnSent + ")");
            return;
        }
        NavigableMap<Long, Integer> below = unacked.headMap(cum, false);
        for (int len : below.values()) {
            outstanding -= len;
        }
        below.clear();
        for (int w = 0, words = ack.sackWords(); w < words; w++) {
            long bits = ack.sackWord(w);
            while (bits != 0) {
                int i = Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                long pn = cum + 1 + 64L * w + i;
                if (pn > maxPnSent) {
                    fail("ACK selectively acknowledges pn " + pn + " never sent (highest " + maxPnSent + ")");
                    return;
                }
                Integer len = unacked.remove(pn);
                if (len != null) {
                    outstanding -= len;
                }
            }
        }
        if (cum >= highestCum) {
            highestCum = cum;
            window = ack.window();
            minWindow = Math.min(minWindow, window);
        }
    }

    private static boolean isHandshake(byte[] b) {
        int t = b.length > 1 ? b[Wire.TYPE_OFFSET] & 0xFF : -1;
        return t == Wire.TYPE_HELLO || t == Wire.TYPE_RETRY || t == Wire.TYPE_WELCOME;
    }

    // ------------------------------------------------------------------ the two endpoints as simulation nodes

    private final class AgentNode extends EndpointNode {
        private final UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
        private final SpinGuard spin = new SpinGuard();

        AgentNode() {
            super(EngineRun.this.sim, AGENT);
        }

        @Override
        public String name() {
            return "agent";
        }

        @Override
        protected void receive(java.net.InetSocketAddress from, byte[] bytes, long now) {
            observeDown(bytes);
            agent.onDatagram(new UnsafeBuffer(bytes), 0, bytes.length, now);
            events.drain();
            app(now);
        }

        @Override
        protected void timer(long now) {
            app(now);
            if (spin.timerAt(now)) {
                fail("agent spins: nextDeadline() is now but poll() sends nothing (" + progress() + ")");
                sim.stop();
            }
        }

        @Override
        protected Outgoing poll(long now) {
            while (true) {
                int len = agent.poll(out, now);
                events.drain();
                if (len <= 0) {
                    return null;
                }
                spin.sent();
                byte[] b = new byte[len];
                out.getBytes(0, b);
                observeUp(b);
                if (isHandshake(b) && handshakeDroppedUp < sc.handshakeDrops()) {
                    handshakeDroppedUp++;
                    sim.log("agent", "handshake datagram dropped by the scenario");
                    continue;
                }
                return new Outgoing(SERVER, b);
            }
        }

        @Override
        public long nextDeadline() {
            return violation != null ? Long.MAX_VALUE : agent.nextDeadline();
        }
    }

    private final class ServerNode extends EndpointNode {
        private final UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
        private long durableSeen;
        private final SpinGuard spin = new SpinGuard();

        ServerNode() {
            super(EngineRun.this.sim, SERVER);
        }

        @Override
        public String name() {
            return "server";
        }

        @Override
        protected void receive(java.net.InetSocketAddress from, byte[] bytes, long now) {
            if (!Checksum.verify(new UnsafeBuffer(bytes), 0, bytes.length)) {
                crcRejectedAtServer++;
            }
            server.onDatagram(from, new UnsafeBuffer(bytes), 0, bytes.length, now);
            if (sc.syncUs() == 0) {
                long d = store.durableSum();
                if (d != durableSeen) {
                    durableSeen = d;
                    server.onDurableAdvanced(); // what a real server does after its fsync
                }
            }
        }

        @Override
        protected void timer(long now) {
            if (spin.timerAt(now)) {
                fail("server spins: nextDeadline() is now but poll() sends nothing");
                sim.stop();
            }
        }

        @Override
        protected Outgoing poll(long now) {
            while (true) {
                int len = server.poll(out, now);
                if (len <= 0) {
                    return null;
                }
                spin.sent();
                byte[] b = new byte[len];
                out.getBytes(0, b);
                if (isHandshake(b) && handshakeDroppedDown < sc.handshakeDrops()) {
                    handshakeDroppedDown++;
                    sim.log("server", "handshake datagram dropped by the scenario");
                    continue;
                }
                return new Outgoing(server.lastDestination(), b);
            }
        }

        @Override
        public long nextDeadline() {
            return violation != null ? Long.MAX_VALUE : server.nextDeadline();
        }
    }

    static String fmt(long ns) {
        return String.format(java.util.Locale.ROOT, "%.3fs", ns / 1e9);
    }
}
