package io.tailwire.sim.system;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static io.tailwire.io.Units.NANOS_PER_SECOND;

import io.tailwire.agent.Generation;
import io.tailwire.config.Configuration;
import io.tailwire.engine.AgentConnection;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.fault.FaultModel;
import io.tailwire.sim.Link;
import io.tailwire.sim.SimFs;
import io.tailwire.sim.SimRandom;
import io.tailwire.sim.Simulation;
import io.tailwire.wire.Wire;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One whole-system run in one thread and virtual time: agents (the real AgentCore, each on its own
 * SimFs host with log writers) ship to the real server (ServerEndpoint + OutputStore on its SimFs) over
 * a faulty SimNetwork, while crashes, freezes, rotations, partitions and a full disk are thrown at them.
 * Then the faults stop and the run must deliver everything; then the checks of {@link #check} run.
 *
 * <p>Invariants checked:
 * <ol>
 * <li>while running: bytes in flight never exceed the receiver window when a DATA packet leaves;</li>
 * <li>at every server power loss (and once more at the end): every byte the store told the engine was
 * durable (resume offsets, durable() values, which ACK durable entries and STREAM_CLOSED carry) is still
 * in the output afterwards, unchanged;</li>
 * <li>liveness: once faults stop, everything is delivered and durable within {@link #livenessBoundNs};</li>
 * <li>each output OUT/agent/path equals the concatenation of its source generations, where a generation
 * may lack a suffix only if the agent reported it lost (a LOSS event starting at or before where the output
 * stops) or its source content was destroyed before the agent could read it (truncation, copytruncate, or
 * deletion while the agent was down); no byte duplicated, order kept. The checker names both kinds.</li>
 * </ol>
 */
public final class SystemSim {
    /** Rotations of one file are at least this far apart (a tailer scans far more often). */
    static final long MIN_EVENT_SPACING_NS = 3 * NANOS_PER_SECOND;
    /** Events on one file while its agent is away (down or frozen): the agent sees none of them as they happen. */
    static final int MAX_EVENTS_PER_ABSENCE = 2;
    static final long MAX_STEPS = 20_000_000L;
    /** Share of runs with the shipped buffer sizes; every other setting is always the shipped one. */
    static final double SHIPPED_BUFFERS_CHANCE = 0.25;

    private final Scenario sc;
    private final Simulation sim;
    private final SimRandom faults;
    private final ServerNode server;
    private final List<AgentNode> agents = new ArrayList<>();
    private final List<List<SourceFile>> sources = new ArrayList<>();
    private final List<Boolean> hostDown = new ArrayList<>();
    private final Map<Path, Long> promisedEnd = new TreeMap<>();
    private final Map<Path, String> promisedWhat = new TreeMap<>();
    private final Map<Path, byte[]> promisedBytes = new TreeMap<>();
    private final Map<SourceFile, Long> lastEventAt = new java.util.IdentityHashMap<>();
    private final long t0;
    private final long tf;
    private boolean writersStopped;
    private String violation;
    private String context;
    private int crashes;
    private long reportedLoss;
    private long sourceDestroyed;
    private long delivered;
    private java.util.function.UnaryOperator<io.tailwire.io.Fs> serverFsDecorator = x -> x;

    public SystemSim(Scenario scenario) {
        this(scenario, 600);
    }

    public SystemSim(Scenario scenario, int traceRing) {
        this.sc = scenario;
        this.sim = new Simulation(scenario.seed(), traceRing);
        this.faults = sim.random().child("faults");
        this.t0 = sim.now();
        this.tf = t0 + scenario.durationNs();
        SimRandom setup = sim.random().child("setup");

        sim.network().setDefaultFaultModel(faultModel(setup));

        // One run in four uses exactly the shipped buffers; the others draw small ones, where windows bind.
        boolean shippedBuffers = setup.chance(SHIPPED_BUFFERS_CHANCE);
        long budget = shippedBuffers ? Configuration.CONNECTION_BUFFER_BYTES : 64 * 1024 + setup.nextLong(0, 960 * 1024);
        int initialWindow = shippedBuffers ? Configuration.INITIAL_WINDOW_BYTES
            : (int) Math.min(budget, 16 * 1024 + setup.nextLong(0, 256 * 1024));
        ServerEndpointConfig scfg = ServerEndpointConfig.defaults().withBudget(budget, initialWindow);
        SimFs serverFs = new SimFs(1);
        InetSocketAddress serverAddr = new InetSocketAddress("10.0.0.1", 7000);
        // One group commit per fsync latency: the writer thread forces again as soon as the last force returns.
        long fsyncMin = setup.nextLong(500_000, 5 * NANOS_PER_MILLI);
        long fsyncMax = fsyncMin + setup.nextLong(0, 40 * NANOS_PER_MILLI);
        server = new ServerNode(sim, this, serverAddr, serverFs, scfg, fsyncMin, fsyncMax);
        sim.log("sim", "scenario " + scenario + (shippedBuffers ? " shipped buffers" : "") + " budget=" + budget + " initialWindow=" + initialWindow
            + " fsync=" + fsyncMin + ".." + fsyncMax);

        for (int i = 0; i < scenario.agents(); i++) {
            String id = "a" + i;
            SimFs fs = new SimFs(100 + i);
            fs.setReuseInodes(true); // a new log file may get a deleted one's inode: the tailer must cope
            List<String> paths = new ArrayList<>();
            List<SourceFile> files = new ArrayList<>();
            try {
                fs.createDirectories(Path.of("/var/log/app"));
                fs.createDirectories(Path.of("/var/lib/tailwire"));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            for (int f = 0; f < scenario.files(); f++) {
                Path p = Path.of("/var/log/app/f" + f + ".log");
                paths.add(p.toString());
                int meanLine = 10 + setup.nextInt(f % 2 == 0 ? 100 : 1500);
                files.add(new SourceFile(id, fs, p, meanLine, sim.random().child("writer " + id + " " + p),
                    scenario.agentPowerLosses() > 0));
            }
            long sendBuffer = shippedBuffers ? Configuration.SEND_BUFFER_BYTES
                : Wire.DEFAULT_MAX_DATAGRAM + setup.nextLong(0, 1 << 20);
            AgentConnectionConfig acfg = AgentConnectionConfig.defaults(id).withSendBufferBytes(sendBuffer);
            AgentNode a = new AgentNode(sim, this, new InetSocketAddress("10.0.1." + (i + 1), 40000 + i), id, fs,
                Path.of("/var/lib/tailwire"), paths, serverAddr, acfg);
            agents.add(a);
            sources.add(files);
            hostDown.add(false);
        }
    }

    private FaultModel faultModel(SimRandom r) {
        long delay = r.nextLong(100_000, 20 * NANOS_PER_MILLI);
        FaultModel m = FaultModel.perfect().delay(delay, r.nextLong(0, delay / 2 + 1));
        if (sc.loss() > 0) {
            m.loss(sc.loss());
        }
        if (sc.bursts()) {
            m.gilbertElliott(0.005, 0.2, 0, 0.7);
        }
        if (sc.duplicate() > 0) {
            m.duplicate(sc.duplicate());
        }
        if (sc.reorder() > 0) {
            m.reorder(sc.reorder(), 30 * NANOS_PER_MILLI);
        }
        if (sc.corrupt() > 0) {
            m.corrupt(sc.corrupt(), 4);
        }
        if (sc.bottleneck()) {
            m.bottleneck(100_000 + r.nextLong(0, 2_000_000), 8 * 1024 + r.nextLong(0, 120 * 1024));
        }
        return m;
    }

    /** For tests of the checks themselves: wraps the file system the server's store uses (e.g. no fsync). */
    SystemSim decorateServerFs(java.util.function.UnaryOperator<io.tailwire.io.Fs> d) {
        this.serverFsDecorator = d;
        return this;
    }

    io.tailwire.io.Fs serverFsUnderTest(io.tailwire.io.Fs fs) {
        return serverFsDecorator.apply(fs);
    }

    /** Virtual time allowed, after the faults stop, for everything to be delivered and durable. */
    public long livenessBoundNs() {
        long total = (long) sc.agents() * sc.files() * sc.bytesPerSecondPerFile() * (sc.durationNs() / NANOS_PER_SECOND);
        // Reconnect back-off reaches 10 s, an idle connection is declared dead after 30 s, a rotated file
        // waits out a 2 s grace period; plus transfer time at a pessimistic 64 KiB/s.
        return 60 * NANOS_PER_SECOND + total / (64 * 1024) * NANOS_PER_SECOND;
    }

    public Simulation simulation() {
        return sim;
    }

    // ---------------------------------------------------------------------------------------- running

    public RunResult run() {
        server.start(sim.now());
        for (AgentNode a : agents) {
            a.start(sim.now());
        }
        scheduleWriters();
        scheduleFaults();
        sim.at(tf, this::faultsStop);
        Simulation.Result r1 = sim.runUntil(() -> violation != null, tf, MAX_STEPS);
        long deliveredAt = -1;
        if (violation == null && r1.outcome() == Simulation.Outcome.STEP_LIMIT) {
            violation("step limit reached during the fault phase (livelock?)");
        }
        if (violation == null) {
            long limit = tf + livenessBoundNs();
            Simulation.Result r2 = sim.runUntil(() -> violation != null
                || (sim.now() >= tf + NANOS_PER_SECOND && deliveredEverything()), limit, MAX_STEPS);
            if (violation == null) {
                if (r2.outcome() == Simulation.Outcome.CONDITION) {
                    deliveredAt = sim.now() - tf;
                } else {
                    violation("liveness: not everything delivered and durable " + livenessBoundNs() / NANOS_PER_SECOND
                        + " s of virtual time after the faults stopped (" + r2.outcome() + ")\n" + stateDump());
                }
            }
        }
        if (violation == null) {
            check();
        }
        if (violation == null) {
            finalCrashCheck();
        }
        long retx = 0;
        long data = 0;
        for (AgentNode a : agents) {
            retx += a.totalRetransmissions();
            data += a.dataPackets;
        }
        long written = 0;
        for (List<SourceFile> fs : sources) {
            for (SourceFile f : fs) {
                written += f.bytesWritten;
            }
        }
        return new RunResult(sc, violation == null, violation, context, sim.now() - t0, deliveredAt, written,
            delivered, reportedLoss, sourceDestroyed, retx, data, crashes, sim.totalSteps(), sim.trace().count(),
            sim.trace().hashHex());
    }

    /** Records the first broken invariant with the trace around it and stops the run. */
    void violation(String what) {
        if (violation == null) {
            violation = "[" + String.format("%.6f", (sim.now() - t0) / 1e9) + " s] " + what;
            context = sim.trace().dumpTail();
            sim.log("sim", "VIOLATION " + what);
        }
        sim.stop();
    }

    // ---------------------------------------------------------------------------------------- writers

    private void scheduleWriters() {
        for (int i = 0; i < agents.size(); i++) {
            for (SourceFile f : sources.get(i)) {
                int agent = i;
                SimRandom r = sim.random().child("writer timing " + f.agentId + " " + f.path);
                writeLoop(agent, f, r);
            }
        }
    }

    private void writeLoop(int agent, SourceFile f, SimRandom r) {
        long interval = r.nextLong(5 * NANOS_PER_MILLI, 200 * NANOS_PER_MILLI);
        sim.after(interval, () -> {
            if (writersStopped || sim.now() >= tf) {
                return;
            }
            if (!hostDown.get(agent)) {
                int bytes = (int) Math.max(1, sc.bytesPerSecondPerFile() * interval / NANOS_PER_SECOND);
                try {
                    f.write(bytes);
                } catch (IOException e) {
                    violation("log writer " + f.agentId + ":" + f.path + " failed: " + e);
                    return;
                }
            }
            writeLoop(agent, f, r);
        });
    }

    // ---------------------------------------------------------------------------------------- faults

    private long when() {
        return t0 + faults.nextLong(NANOS_PER_SECOND / 2, Math.max(NANOS_PER_SECOND / 2 + 1, sc.durationNs() - NANOS_PER_SECOND));
    }

    private long downtime(long at, long min, long max) {
        return Math.min(at + faults.nextLong(min, max), tf);
    }

    private void scheduleFaults() {
        for (int i = 0; i < sc.agentKills(); i++) {
            AgentNode a = agents.get(faults.nextInt(agents.size()));
            long at = when();
            long back = downtime(at, 50 * NANOS_PER_MILLI, 5 * NANOS_PER_SECOND);
            sim.at(at, () -> {
                if (a.up) {
                    crashes++;
                    sim.log("sim", "kill -9 agent " + a.id);
                    if (!a.frozen(sim.now())) {
                        agentAway(a); // a frozen agent is already away: its absence goes on (seed 16632)
                    }
                    a.kill();
                    sim.at(back, () -> restartAgent(a));
                }
            });
        }
        for (int i = 0; i < sc.agentPowerLosses(); i++) {
            int idx = faults.nextInt(agents.size());
            AgentNode a = agents.get(idx);
            long at = when();
            long back = downtime(at, 100 * NANOS_PER_MILLI, 5 * NANOS_PER_SECOND);
            sim.at(at, () -> {
                if (a.up) {
                    crashes++;
                    sim.log("sim", "power loss of agent host " + a.id);
                    if (!a.frozen(sim.now())) {
                        agentAway(a);
                    }
                    hostDown.set(idx, true);
                    a.powerLoss();
                    sim.at(back, () -> restartAgent(a));
                }
            });
        }
        for (int i = 0; i < sc.serverKills() + sc.serverPowerLosses(); i++) {
            boolean power = i >= sc.serverKills();
            long at = when();
            long back = downtime(at, 10 * NANOS_PER_MILLI, 5 * NANOS_PER_SECOND);
            sim.at(at, () -> {
                if (server.up) {
                    crashes++;
                    sim.log("sim", power ? "power loss of the server host" : "kill -9 server");
                    if (power) {
                        server.powerLoss();
                    } else {
                        server.kill();
                    }
                    sim.at(back, this::restartServer);
                }
            });
        }
        for (int i = 0; i < sc.pauses(); i++) {
            int target = faults.nextInt(agents.size() + 1);
            long at = when();
            long until = downtime(at, 100 * NANOS_PER_MILLI, 4 * NANOS_PER_SECOND);
            sim.at(at, () -> {
                if (target == agents.size()) {
                    server.freeze(until);
                } else {
                    AgentNode a = agents.get(target);
                    if (a.up && !a.frozen(sim.now())) {
                        agentAway(a);
                    }
                    a.freeze(until);
                }
            });
        }
        for (int i = 0; i < sc.partitions(); i++) {
            int target = faults.nextInt(agents.size() + 1);
            long at = when();
            long end = downtime(at, 200 * NANOS_PER_MILLI, 12 * NANOS_PER_SECOND);
            if (target == agents.size()) {
                sim.network().isolate(server.address(), at, end);
                sim.at(at, () -> sim.log("sim", "server isolated until " + end));
            } else {
                AgentNode a = agents.get(target);
                sim.network().partition(a.address(), server.address(), at, end);
                sim.at(at, () -> sim.log("sim", "partition " + a.id + " <-> server until " + end));
            }
        }
        for (int i = 0; i < sc.diskFulls(); i++) {
            long at = when();
            long end = downtime(at, NANOS_PER_SECOND, 6 * NANOS_PER_SECOND);
            long slack = faults.nextLong(0, 32 * 1024);
            sim.at(at, () -> {
                server.fs.setCapacity(server.fs.usedBytes() + slack);
                sim.log("sim", "server disk full (" + slack + " bytes left) until " + end);
            });
            sim.at(end, () -> {
                server.fs.setCapacity(Long.MAX_VALUE);
                sim.log("sim", "server disk has space again");
            });
        }
        scheduleFileEvents(sc.rotations(), "rename+create", SourceFile::rotate, SourceFile.End.RENAMED);
        scheduleFileEvents(sc.copyTruncates(), "copytruncate", SourceFile::copyTruncate, SourceFile.End.COPYTRUNCATED);
        scheduleFileEvents(sc.truncations(), "truncate", SourceFile::truncate, SourceFile.End.TRUNCATED);
        scheduleFileEvents(sc.deletions(), "delete while open", SourceFile::delete, SourceFile.End.DELETED);
    }

    private interface FileOp {
        void apply(SourceFile f) throws IOException;
    }

    private void scheduleFileEvents(int count, String what, FileOp op, SourceFile.End kind) {
        for (int i = 0; i < count; i++) {
            int agent = faults.nextInt(agents.size());
            SourceFile f = sources.get(agent).get(faults.nextInt(sc.files()));
            long at = when();
            sim.at(at, () -> {
                AgentNode a = agents.get(agent);
                boolean away = !a.up || a.frozen(sim.now());
                Long last = lastEventAt.get(f);
                // While its agent is up, events on a file are spaced (a tailer scans far more often). While it is
                // away, two may follow each other at any pace (issue 11 item 10: truncated in place, then
                // renamed), except a file created in the absence and then renamed away: a file that came and went
                // while the agent was not looking cannot be known to belong to the path (README).
                boolean second = away && f.eventsWhileAgentAway == 1;
                boolean createdThenRenamed = second && kind == SourceFile.End.RENAMED
                    && (f.firstEventWhileAway == SourceFile.End.RENAMED || f.firstEventWhileAway == SourceFile.End.DELETED);
                if (hostDown.get(agent) || (!second && last != null && sim.now() - last < MIN_EVENT_SPACING_NS)
                    || (away && f.eventsWhileAgentAway >= MAX_EVENTS_PER_ABSENCE) || createdThenRenamed) {
                    sim.log("sim", "skipped " + what + " of " + f.agentId + ":" + f.path);
                    return;
                }
                try {
                    int before = f.gens.size();
                    op.apply(f);
                    if (f.gens.size() > before) {
                        lastEventAt.put(f, sim.now());
                        f.gens.get(before - 1).whileAgentAway = away;
                        sim.log("sim", what + " of " + f.agentId + ":" + f.path + " (generation " + before
                            + " starts)");
                    }
                } catch (IOException e) {
                    violation(what + " of " + f.path + " failed: " + e);
                }
            });
        }
    }

    private void agentAway(AgentNode a) {
        for (SourceFile f : sources.get(agents.indexOf(a))) {
            f.eventsWhileAgentAway = 0;
            f.firstEventWhileAway = null;
        }
    }

    private void restartAgent(AgentNode a) {
        if (a.up) {
            return;
        }
        hostDown.set(agents.indexOf(a), false);
        sim.log("sim", "restart agent " + a.id);
        a.start(sim.now());
    }

    private void restartServer() {
        if (server.up) {
            return;
        }
        sim.log("sim", "restart server");
        server.start(sim.now());
    }

    /** From now on: a perfect network, space on disk, every process up; the writers stop. */
    private void faultsStop() {
        sim.log("sim", "faults stop; writers stop");
        writersStopped = true;
        FaultModel calm = FaultModel.perfect().delay(NANOS_PER_MILLI, 0);
        sim.network().setDefaultFaultModel(calm);
        for (Link l : sim.network().links()) {
            l.setFaultModel(calm.copy());
        }
        server.fs.setCapacity(Long.MAX_VALUE);
        restartServer();
        for (AgentNode a : agents) {
            restartAgent(a);
        }
    }

    // ---------------------------------------------------------------------------------------- checks

    /** Everything written is read, acknowledged and reported durable, and no rotation is pending. */
    private boolean deliveredEverything() {
        if (!server.up || server.frozen(sim.now())) {
            return false;
        }
        for (int i = 0; i < agents.size(); i++) {
            AgentNode a = agents.get(i);
            if (!a.up || a.frozen(sim.now())) {
                return false;
            }
            AgentConnection c = a.core.connection();
            if (c == null || c.state() != AgentConnection.State.CONNECTED || !c.allAcked()) {
                return false;
            }
            // Not the agent's durable offsets: ACK durable entries are hints (wire-spec.md 5) and one lost
            // with its ACK is not repeated, so they may stay behind for good (see SYSTEM-SIM.md, findings).
            List<Generation> gens = a.core.tailer().generations();
            for (Generation g : gens) {
                if (g.state() != Generation.State.ACTIVE) {
                    return false;
                }
            }
            for (SourceFile f : sources.get(i)) {
                long size = f.fs.size(f.path);
                if (size < 0) {
                    continue;
                }
                Generation g = a.core.tailer().currentShippable(f.path.toString());
                if (g == null || g.readOffset() != size || !g.numberConfirmed() || !server.recorded.holdsDurably(
                    RecordingStore.outputFile(ServerNode.OUT, a.id, f.path.toString()), g.number(), size)) {
                    return false;
                }
            }
        }
        // Everything acknowledged is written; the server's own count says whether it is all forced.
        return server.store.unsyncedBytes() == 0;
    }

    /** The output of every (agent, source) against its source generations and the agent's reported losses. */
    private void check() {
        for (int i = 0; i < agents.size() && violation == null; i++) {
            AgentNode a = agents.get(i);
            for (SourceFile f : sources.get(i)) {
                Path out = RecordingStore.outputFile(ServerNode.OUT, a.id, f.path.toString());
                byte[] o;
                try {
                    o = server.fs.readAll(out);
                } catch (IOException e) {
                    violation("cannot read output " + out + ": " + e);
                    return;
                }
                o = o == null ? new byte[0] : o;
                delivered += o.length;
                List<AgentNode.Loss> losses = new ArrayList<>();
                for (AgentNode.Loss l : a.losses) {
                    if (l.path().equals(f.path.toString())) {
                        losses.add(l);
                    }
                }
                OutputChecker.Result r = OutputChecker.check(o, f.gens, losses);
                reportedLoss += r.reportedLoss();
                sourceDestroyed += r.sourceDestroyed();
                if (r.violation() != null) {
                    violation("output " + out + " of " + a.id + ":" + f.path + ": " + r.violation());
                    return;
                }
            }
        }
    }

    /** Promise made by the store: output holds [0, end) durably. */
    void promise(Path output, long end, String what) {
        Long old = promisedEnd.get(output);
        if (old == null || end > old) {
            promisedEnd.put(output, end);
            promisedWhat.put(output, what + " at " + String.format("%.6f", (sim.now() - t0) / 1e9) + " s");
        }
    }

    /** Freezes, for every output, the bytes promised durable so far (they must never change again). */
    void beforeServerCrash() {
        for (Map.Entry<Path, Long> e : promisedEnd.entrySet()) {
            byte[] have = promisedBytes.get(e.getKey());
            if (have != null && have.length >= e.getValue()) {
                continue;
            }
            byte[] content;
            try {
                content = server.fs.readAll(e.getKey());
            } catch (IOException ex) {
                violation("cannot read " + e.getKey() + ": " + ex);
                return;
            }
            if (content == null || content.length < e.getValue()) {
                violation("the store promised " + e.getKey() + " durable up to " + e.getValue() + " ("
                    + promisedWhat.get(e.getKey()) + ") but the file holds only "
                    + (content == null ? "nothing" : content.length + " bytes"));
                return;
            }
            promisedBytes.put(e.getKey(), Arrays.copyOf(content, (int) (long) e.getValue()));
        }
    }

    /** Every promised byte survived the crash, unchanged. */
    void afterServerCrash() {
        for (Map.Entry<Path, byte[]> e : promisedBytes.entrySet()) {
            byte[] after;
            try {
                after = server.fs.readAll(e.getKey());
            } catch (IOException ex) {
                violation("cannot read " + e.getKey() + ": " + ex);
                return;
            }
            byte[] want = e.getValue();
            int len = after == null ? -1 : after.length;
            if (len < want.length || Arrays.mismatch(want, 0, want.length, after, 0, want.length) >= 0) {
                violation("a server power loss lost bytes the store had called durable: " + e.getKey() + " was promised "
                    + want.length + " bytes (" + promisedWhat.get(e.getKey()) + "), after the crash it holds "
                    + (len < 0 ? "no file" : len + " bytes" + (len >= want.length ? " with different content at "
                    + Arrays.mismatch(want, 0, want.length, after, 0, want.length) : "")));
                return;
            }
        }
    }

    /** After delivery everything was reported durable: a final power loss of the server must lose nothing. */
    private void finalCrashCheck() {
        Map<Path, byte[]> before = new TreeMap<>();
        for (int i = 0; i < agents.size(); i++) {
            for (SourceFile f : sources.get(i)) {
                Path out = RecordingStore.outputFile(ServerNode.OUT, agents.get(i).id, f.path.toString());
                try {
                    byte[] b = server.fs.readAll(out);
                    before.put(out, b == null ? new byte[0] : b);
                } catch (IOException e) {
                    violation("cannot read " + out + ": " + e);
                    return;
                }
            }
        }
        sim.log("sim", "final power loss of the server host");
        server.powerLoss();
        if (violation != null) {
            return;
        }
        for (Map.Entry<Path, byte[]> e : before.entrySet()) {
            byte[] after;
            try {
                after = server.fs.readAll(e.getKey());
            } catch (IOException ex) {
                violation("cannot read " + e.getKey() + ": " + ex);
                return;
            }
            after = after == null ? new byte[0] : after;
            if (!Arrays.equals(after, e.getValue())) {
                violation("everything was acknowledged as durable, yet a final server power loss changed "
                    + e.getKey() + " from " + e.getValue().length + " to " + after.length + " bytes");
                return;
            }
        }
    }

    private String stateDump() {
        StringBuilder sb = new StringBuilder();
        sb.append("  server up=").append(server.up).append('\n');
        for (int i = 0; i < agents.size(); i++) {
            AgentNode a = agents.get(i);
            sb.append("  agent ").append(a.id).append(" up=").append(a.up);
            if (a.up) {
                AgentConnection c = a.core.connection();
                sb.append(" connection=").append(c == null ? "none" : c.state() + " allAcked=" + c.allAcked()
                    + " inFlight=" + c.bytesInFlight() + " window=" + c.peerWindow());
                for (Generation g : a.core.tailer().generations()) {
                    sb.append("\n    ").append(g).append(" durable=").append(g.durableOffset());
                }
            }
            for (SourceFile f : sources.get(i)) {
                sb.append("\n    source ").append(f.path).append(" size=").append(f.fs.size(f.path))
                    .append(" generations=").append(f.gens.size());
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Runs one scenario; never throws for a failure of the system under test (it becomes a FAIL). */
    public static RunResult run(Scenario s) {
        SystemSim w = new SystemSim(s);
        try {
            return w.run();
        } catch (RuntimeException | AssertionError e) {
            w.violation("exception: " + e + stack(e));
            return new RunResult(s, false, w.violation, w.context, w.sim.now() - w.t0, -1, 0, 0, 0, 0, 0, 0,
                w.crashes, w.sim.totalSteps(), w.sim.trace().count(), w.sim.trace().hashHex());
        }
    }

    private static String stack(Throwable e) {
        StringBuilder sb = new StringBuilder();
        StackTraceElement[] st = e.getStackTrace();
        for (int i = 0; i < Math.min(12, st.length); i++) {
            sb.append("\n    at ").append(st[i]);
        }
        return sb.toString();
    }
}
