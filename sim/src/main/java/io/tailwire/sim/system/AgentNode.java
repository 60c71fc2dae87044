package io.tailwire.sim.system;

import io.tailwire.agent.AgentCore;
import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.engine.AgentConnection;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.sim.EndpointNode;
import io.tailwire.sim.SimFs;
import io.tailwire.sim.Simulation;
import io.tailwire.wire.Wire;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One agent process on its own simulated host: the real {@link AgentCore} over a per-process view of the
 * host's SimFs. It can be killed (kill -9: descriptors closed, page cache kept), lose power with its host
 * (everything not forced is gone), be frozen for a while (SIGSTOP/SIGCONT: a jump of its monotonic
 * clock when it wakes) and be restarted from its state directory.
 */
final class AgentNode extends EndpointNode {
    /**
     * A LOSS the agent reported: bytes [from, to) of a generation of path it will never ship; from == to: bytes from
     * {@code from} on may be gone, how many is unknown (wire-spec 6.5).
     */
    record Loss(String path, long generation, long from, long to, String reason) {
        boolean unknownSize() {
            return from == to;
        }
    }

    /** AgentCore's line for a LOSS event; "N..?" is a loss of unknown size. */
    private static final Pattern LOST = Pattern.compile(
        "LOST bytes (\\d+)\\.\\.(\\d+|\\?)(?: \\([^)]*\\))? of (.*) generation (\\d+): (.*)", Pattern.DOTALL);

    final String id;
    final SimFs fs;
    final Path stateDir;
    final List<String> sources;
    final InetSocketAddress server;
    final AgentConnectionConfig connectionConfig;
    private final SystemSim world;
    private final UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    private final UnsafeBuffer in = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    /** SIGSTOP/SIGCONT; its socket keeps 256 datagrams meanwhile. */
    private final Freeze freeze = new Freeze(256);
    final List<Loss> losses = new ArrayList<>();

    private SimFs.ProcessView process;
    AgentCore core;
    boolean up;
    int incarnation;
    private AgentConnection lastConnection;
    long retransmissions;
    long dataPackets;

    AgentNode(Simulation sim, SystemSim world, InetSocketAddress address, String id, SimFs fs, Path stateDir,
              List<String> sources, InetSocketAddress server, AgentConnectionConfig connectionConfig) {
        super(sim, address);
        this.world = world;
        this.id = id;
        this.fs = fs;
        this.stateDir = stateDir;
        this.sources = sources;
        this.server = server;
        this.connectionConfig = connectionConfig;
    }

    @Override
    public String name() {
        return id;
    }

    /** Starts a new agent process from whatever the state directory holds. */
    void start(long now) {
        incarnation++;
        process = fs.process(id + "#" + incarnation);
        long seed = sim.random().child(id + " incarnation " + incarnation).nextLong();
        core = new AgentCore(connectionConfig, TailerConfig.of(sources), process, stateDir, new PollBackoff(), seed,
            new AgentCore.Listener() {
                @Override
                public void info(String message) {
                    sim.log(id, message);
                }

                @Override
                public void warn(String message) {
                    sim.log(id, "WARN " + message);
                    Matcher m = LOST.matcher(message);
                    if (m.matches()) {
                        long from = Long.parseLong(m.group(1));
                        long to = m.group(2).equals("?") ? from : Long.parseLong(m.group(2));
                        losses.add(new Loss(m.group(3), Long.parseLong(m.group(4)), from, to, m.group(5)));
                    }
                }
            });
        try {
            core.start(now);
        } catch (IOException e) {
            // The real agent would exit; the supervisor restarts it. Here: a loud trace line and another try.
            sim.log(id, "start failed: " + e);
            world.violation("agent " + id + " cannot start: " + e);
            return;
        }
        up = true;
        freeze.clear();
        lastConnection = null;
        sim.addNode(this);
        flush(now);
    }

    /** kill -9: the process and its descriptors are gone; the host and its page cache stay. */
    void kill() {
        if (!up) {
            return;
        }
        accountConnection();
        up = false;
        process.kill();
        sim.removeNode(this);
        core = null;
    }

    /** The host loses power: the agent dies and the host's unforced data is gone. */
    void powerLoss() {
        kill();
        fs.crash();
        sim.log(id, "host power loss");
    }

    void freeze(long until) {
        if (up) {
            freeze.extend(until);
            sim.log(id, "frozen until " + until);
        }
    }

    boolean frozen(long now) {
        return freeze.active(now);
    }

    @Override
    protected void receive(InetSocketAddress from, byte[] data, long now) {
        if (!up) {
            return;
        }
        if (!freeze.hold(from, data, now)) {
            deliver(data, now);
        }
    }

    private void deliver(byte[] data, long now) {
        in.putBytes(0, data);
        core.onDatagram(in, 0, data.length, now);
    }

    @Override
    protected void timer(long now) {
        if (up) {
            freeze.release(now, (from, data) -> deliver(data, now));
        }
    }

    @Override
    protected Outgoing poll(long now) {
        if (!up || frozen(now)) {
            return null;
        }
        int n = core.poll(out, now);
        AgentConnection c = core.connection();
        if (c != lastConnection) {
            accountConnection();
            lastConnection = c;
        }
        if (n <= 0) {
            return null;
        }
        if (out.getByte(Wire.TYPE_OFFSET) == Wire.TYPE_DATA && c != null) {
            dataPackets++;
            // wire-spec.md 7.1: bytes in flight never exceed the receiver's window, except for the oldest
            // lost packet resent with nothing else in flight (this datagram's payload is then all in flight).
            if (c.bytesInFlight() > c.peerWindow() && c.bytesInFlight() > n - Wire.DATA_HEADER_LENGTH) {
                world.violation("agent " + id + " has " + c.bytesInFlight() + " bytes in flight, above the"
                    + " receiver window " + c.peerWindow());
            }
        }
        byte[] b = new byte[n];
        out.getBytes(0, b);
        return new Outgoing(server, b);
    }

    private void accountConnection() {
        if (lastConnection != null) {
            retransmissions += lastConnection.stats().retransmissions();
            lastConnection = null;
        }
    }

    long totalRetransmissions() {
        AgentConnection c = lastConnection;
        return retransmissions + (c == null ? 0 : c.stats().retransmissions());
    }

    @Override
    public long nextDeadline() {
        if (!up) {
            return Long.MAX_VALUE;
        }
        if (frozen(sim.now())) {
            return freeze.until();
        }
        return core.nextDeadline();
    }
}
