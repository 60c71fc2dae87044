package io.tailwire.sim.system;

import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.engine.ServerEvents;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;
import io.tailwire.server.store.OutputStore;
import io.tailwire.sim.EndpointNode;
import io.tailwire.sim.SimFs;
import io.tailwire.sim.SimRandom;
import io.tailwire.sim.Simulation;
import io.tailwire.wire.Wire;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The server process: the real {@link ServerEndpoint} over the real {@link OutputStore} on the server
 * host's SimFs. Group commit is a chain of virtual-time events, each a {@code syncDirty()} that takes a
 * random fsync latency, followed by {@code onDurableAdvanced()}. A restart is a new endpoint and a new
 * store over the same disk, as a new process would have.
 */
final class ServerNode extends EndpointNode {
    static final Path OUT = Path.of("/srv/out");

    private final SystemSim world;
    final SimFs fs;
    private final ServerEndpointConfig config;
    private final byte[] secret;
    private final SimRandom fsyncRandom;
    private final long fsyncMinNs;
    private final long fsyncMaxNs;
    private final UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    private final UnsafeBuffer in = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    /** SIGSTOP/SIGCONT; its socket keeps 1024 datagrams meanwhile. */
    private final Freeze freeze = new Freeze(1024);

    private SimFs.ProcessView process;
    OutputStore store;
    ServerEndpoint endpoint;
    RecordingStore recorded;
    boolean up;
    int incarnation;
    long syncs;

    ServerNode(Simulation sim, SystemSim world, InetSocketAddress address, SimFs fs, ServerEndpointConfig config,
               long fsyncMinNs, long fsyncMaxNs) {
        super(sim, address);
        this.world = world;
        this.fs = fs;
        this.config = config;
        this.fsyncMinNs = fsyncMinNs;
        this.fsyncMaxNs = fsyncMaxNs;
        this.secret = new byte[32];
        sim.random().child("server secret").nextBytes(secret);
        this.fsyncRandom = sim.random().child("fsync latency");
    }

    @Override
    public String name() {
        return "server";
    }

    void start(long now) {
        incarnation++;
        process = fs.process("server#" + incarnation);
        try {
            store = new OutputStore(world.serverFsUnderTest(process), OUT, OutputStore.Config.DEFAULT, line -> sim.log("server", line));
        } catch (IOException e) {
            world.violation("server cannot open its output directory: " + e);
            return;
        }
        recorded = new RecordingStore(store, fs, OUT, world::promise);
        endpoint = new ServerEndpoint(config, secret, sim.random().child("server incarnation " + incarnation)
            .nextLong(), recorded, new ServerEvents() {
                @Override
                public void onConnected(String agentId, InetSocketAddress from, long connectionId) {
                    sim.log("server", "connected " + agentId + " connection " + Long.toHexString(connectionId));
                }

                @Override
                public void onStreamOpened(String agentId, String path, long generation, long resumeOffset,
                                           StreamStatus status) {
                    sim.log("server", "open " + agentId + ":" + path + " #" + generation + " resume "
                        + resumeOffset + " " + status);
                }

                @Override
                public void onClosed(String agentId, long connectionId, CloseCode code) {
                    sim.log("server", "closed " + agentId + " " + Long.toHexString(connectionId) + " " + code);
                }

                @Override
                public void onLossReport(String agentId, String path, long generation, long from, long to,
                                         String reason) {
                    sim.log("server", "LOSS_REPORT " + agentId + ":" + path + " #" + generation + " " + from + ".."
                        + to + " " + reason);
                }
            });
        up = true;
        freeze.clear();
        sim.addNode(this);
        scheduleSync(incarnation);
    }

    private void scheduleSync(int inc) {
        long latency = fsyncRandom.nextLong(fsyncMinNs, fsyncMaxNs + 1);
        sim.after(latency, () -> sync(inc));
    }

    private void sync(int inc) {
        if (!up || inc != incarnation) {
            return; // that process is gone; its successor runs its own chain
        }
        long now = sim.now();
        if (!frozen(now)) {
            syncs++;
            if (store.syncDirty() > 0) {
                endpoint.onDurableAdvanced();
                flush(now);
            }
        }
        scheduleSync(inc);
    }

    /** kill -9: descriptors closed, written bytes stay in the page cache. */
    void kill() {
        if (!up) {
            return;
        }
        up = false;
        process.kill();
        sim.removeNode(this);
        store = null;
        endpoint = null;
    }

    void powerLoss() {
        kill();
        world.beforeServerCrash();
        fs.crash();
        sim.log("server", "host power loss");
        world.afterServerCrash();
    }

    void freeze(long until) {
        if (up) {
            freeze.extend(until);
            sim.log("server", "frozen until " + until);
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
            deliver(from, data, now);
        }
    }

    private void deliver(InetSocketAddress from, byte[] data, long now) {
        in.putBytes(0, data);
        endpoint.onDatagram(from, in, 0, data.length, now);
    }

    @Override
    protected void timer(long now) {
        if (up) {
            freeze.release(now, (from, data) -> deliver(from, data, now));
        }
    }

    @Override
    protected Outgoing poll(long now) {
        if (!up || frozen(now)) {
            return null;
        }
        int n = endpoint.poll(out, now);
        if (n <= 0) {
            return null;
        }
        byte[] b = new byte[n];
        out.getBytes(0, b);
        return new Outgoing(endpoint.lastDestination(), b);
    }

    @Override
    public long nextDeadline() {
        if (!up) {
            return Long.MAX_VALUE;
        }
        if (frozen(sim.now())) {
            return freeze.until();
        }
        return endpoint.nextDeadline();
    }
}
