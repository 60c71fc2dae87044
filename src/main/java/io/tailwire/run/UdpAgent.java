package io.tailwire.run;

import io.tailwire.agent.AgentCore;
import io.tailwire.agent.InstanceIdentity;
import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.log.Log;
import io.tailwire.engine.AgentConnection;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.http.Health;
import io.tailwire.io.Fs;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The agent process minus its command line: an {@link AgentCore} driven by one thread with one UDP
 * socket. bin/udp-agent runs one; integration tests run many in one JVM.
 */
public final class UdpAgent {
    private final Log log;
    /** Locks the state directory and names this instance to the server (wire-spec.md 3). */
    private final InstanceIdentity identity;
    private final AgentCore core;
    private final InetSocketAddress server;
    private final DatagramChannel channel;
    private final Thread loop;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final long statusIntervalNs;
    /** While some file is behind, its lag is logged this often even without --status-interval. */
    static final long BEHIND_REPORT_NS = 5_000_000_000L;
    private volatile long shutdownGraceNs = -1;
    private volatile boolean killed;
    private volatile Throwable failure;
    /** The loop's waiter, so stop() and kill() need not wait out a block. */
    private volatile Waiter waiter;
    /**
     * How often the loop copies its status for the admin endpoint: 250 ms, as the server publishes its own;
     * a scrape is then at most that stale, and the copy costs a few objects per tracked file per period.
     */
    public static final long STATUS_PUBLISH_INTERVAL_NS = 250_000_000L;
    private final String agentId;
    /** The loop's latest copy of its status (see {@link AgentStatus}); null until the loop first publishes. */
    private volatile AgentStatus status;
    private AgentAdmin admin;

    private void wake() {
        Waiter w = waiter;
        if (w != null) {
            w.wakeup();
        }
    }

    public UdpAgent(InetSocketAddress server, AgentConnectionConfig connection, TailerConfig tailer, Fs fs,
                    Path stateDir, PollBackoff poll, long seed, long statusIntervalNs, Log log) throws IOException {
        this.log = log;
        this.server = server;
        this.agentId = connection.agentId();
        this.statusIntervalNs = statusIntervalNs;
        this.identity = InstanceIdentity.acquire(stateDir);
        DatagramChannel ch = null;
        try {
            this.core = new AgentCore(connection.withInstanceId(identity.id()), tailer, fs, stateDir, poll, seed,
                listener(log));
            core.start(System.nanoTime());
            ch = DatagramChannel.open();
            ch.configureBlocking(false);
            ch.connect(server);
        } catch (IOException | RuntimeException e) {
            identity.close();
            if (ch != null) {
                ch.close();
                throw new IOException("cannot reach " + server + ": " + e.getMessage(), e);
            }
            throw e;
        }
        this.channel = ch;
        this.loop = new Thread(this::run, "tailwire-agent-" + connection.agentId());
        this.loop.setDaemon(true);
        loop.start();
    }

    /** An agent's events as log lines. */
    public static AgentCore.Listener listener(Log log) {
        return new AgentCore.Listener() {
            @Override
            public void info(String message) {
                log.info(message);
            }

            @Override
            public void warn(String message) {
                log.warn(message);
            }

            @Override
            public void debug(String message) {
                log.debug(message);
            }
        };
    }

    private void run() {
        AgentIo io = new AgentIo();
        long lastStatus = System.nanoTime();
        long lastBehind = lastStatus;
        boolean wasBehind = false;
        io.tailwire.agent.LoggedCondition unreachableServer = new io.tailwire.agent.LoggedCondition("server " + server,
            log::warn, log::info);
        long nextPublish = System.nanoTime();
        try (Waiter idle = new Waiter(channel, 500_000, Waiter.SHORT_WAIT_TURNS)) {
            waiter = idle;
            while (!core.isClosed() && !killed) {
                long now = System.nanoTime();
                if (now - nextPublish >= 0) {
                    publishStatus();
                    nextPublish = now + STATUS_PUBLISH_INTERVAL_NS;
                }
                long grace = shutdownGraceNs;
                if (grace >= 0) {
                    core.shutdown(now, grace);
                }
                int received = io.receive(channel, core, now);
                boolean unreachable = io.unreachable();
                int work = received + io.send(channel, core, now, Integer.MAX_VALUE);
                unreachable |= io.unreachable();
                if (unreachable) {
                    unreachableServer.on("not reachable (nothing listening?); retrying", now);
                } else if (received > 0) {
                    unreachableServer.clear(now);
                }
                if (statusIntervalNs > 0 && now - lastStatus >= statusIntervalNs) {
                    lastStatus = now;
                    lastBehind = now;
                    log.info(Status.line(core));
                    for (String l : Status.lagLines(core, false)) {
                        log.info(l);
                    }
                } else if (now - lastBehind >= BEHIND_REPORT_NS) {
                    // Without --status-interval: still say, every few seconds, which files lag and by how much.
                    // Only lag seen at two checks in a row: a busy file is always a few ms behind.
                    lastBehind = now;
                    java.util.List<String> lines = Status.lagLines(core, true);
                    if (wasBehind) {
                        for (String l : lines) {
                            log.info(l);
                        }
                    }
                    wasBehind = !lines.isEmpty();
                }
                if (work > 0) {
                    idle.worked();
                } else if (core.waitingForPeer()) {
                    // window full: only an ACK lets data go
                    idle.awaitDatagram(now, Math.min(core.nextDeadline(), nextPublish));
                } else {
                    idle.idle(now, Math.min(core.nextDeadline(), nextPublish));
                }
            }
        } catch (IOException | RuntimeException e) {
            failure = e;
            log.error("agent loop stopped: " + e);
            core.saveState();
        } finally {
            try {
                publishStatus(); // the final positions, for a scrape during a stop
            } catch (RuntimeException e) {
                log.warn("cannot publish the final status: " + e);
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing
            }
            identity.close(); // a restart in this process may take the state directory now
            finished.countDown();
        }
    }

    public AgentCore core() {
        return core;
    }

    /** Loop thread: copies what the admin endpoint shows from the core's read-only accessors. */
    private void publishStatus() {
        AgentConnection c = core.connection();
        AgentConnection.State st = c == null ? null : c.state();
        boolean connected = st == AgentConnection.State.CONNECTED;
        status = new AgentStatus(agentId, server.getHostString() + ":" + server.getPort(), connected,
            st == null ? "connecting" : st.name().toLowerCase(Locale.ROOT), connected ? c.connectionId() : -1,
            core.lossBytes(), core.lossEvents(), core.bytesQueued(), core.fileLags(), Instant.now());
    }

    /** The status the loop last published (every {@link #STATUS_PUBLISH_INTERVAL_NS}); null before the first. */
    public AgentStatus status() {
        return status;
    }

    /** Liveness and readiness, as GET /health and GET /ready of the agent's admin endpoint show them. */
    public Health health() {
        return health;
    }

    private final Health health = new Health() {
        @Override
        public String notLive() {
            Throwable f = failure;
            if (f != null) {
                return "agent loop died: " + f;
            }
            if (!loop.isAlive()) {
                return "agent loop is not running (agent stopped)";
            }
            return null;
        }

        @Override
        public String notReady() {
            String dead = notLive();
            if (dead != null) {
                return dead;
            }
            if (shutdownGraceNs >= 0) {
                return "stopping: waiting for the server to acknowledge what was sent";
            }
            AgentStatus s = status;
            if (s == null) {
                return "starting: the agent loop has not published its status yet";
            }
            if (!s.connected()) {
                return "not connected to the server " + s.server() + " (" + s.state() + "; retrying)";
            }
            return null;
        }
    };

    /**
     * Starts the agent's admin HTTP endpoint (GET /metrics, /status, /health, /ready) on {@code bind}; closed
     * by {@link #stop} and {@link #kill}. Throws IOException with a plain message if it cannot bind.
     */
    public synchronized int startAdmin(InetSocketAddress bind) throws IOException {
        if (admin != null) {
            throw new IllegalStateException("admin endpoint already started");
        }
        AgentAdmin a = new AgentAdmin(bind, this::status, health, log::warn);
        a.start();
        admin = a;
        log.info("admin endpoint on http://" + bind.getAddress().getHostAddress() + ":" + a.port() + "/");
        return a.port();
    }

    /** One line to log as a warning when an admin {@code bind} is not loopback, or null when it is. */
    public static String adminExposureWarning(InetSocketAddress bind) {
        return AgentAdmin.exposureWarning(bind);
    }

    private synchronized void closeAdmin() {
        if (admin != null) {
            admin.close();
            admin = null;
        }
    }

    /** Non-null if the loop died. */
    public Throwable failure() {
        return failure;
    }

    /**
     * Graceful stop (SIGTERM): stop reading files, wait up to {@code graceNs} for acknowledgements, save
     * state. Returns true if it finished within the wait.
     */
    public boolean stop(long graceNs, long waitMs) throws InterruptedException {
        shutdownGraceNs = graceNs;
        wake();
        boolean done = finished.await(waitMs, TimeUnit.MILLISECONDS);
        closeAdmin(); // after the loop: /ready says "stopping" meanwhile
        return done;
    }

    /** Stops like kill -9: no state save, nothing flushed. */
    public void kill() throws InterruptedException {
        killed = true;
        wake();
        closeAdmin();
        finished.await(5, TimeUnit.SECONDS);
    }

    /** Core access from another thread is only safe while the loop is stopped; status reads are racy but harmless. */
    static final class Status {
        private Status() {
        }

        static String line(AgentCore core) {
            var c = core.connection();
            StringBuilder sb = new StringBuilder("status: ");
            sb.append(c == null ? "disconnected" : c.state().name().toLowerCase());
            long behind = 0;
            for (var g : core.tailer().generations()) {
                behind += Math.max(0, g.size() - g.durableOffset());
            }
            sb.append(", ").append(core.tailer().generations().size()).append(" generation(s), ")
                .append(behind).append(" bytes not yet durable at the server, ")
                .append(core.lossBytes()).append(" bytes lost");
            if (c != null) {
                var st = c.stats();
                sb.append(", ").append(st.retransmissions()).append(" retransmissions (")
                    .append(st.timeouts()).append(" by timeout, ").append(st.probes()).append(" probes, ")
                    .append(st.spuriousRecoveries()).append(" spurious loss episodes undone, ")
                    .append(st.lossesTolerated()).append(" losses without a queue); cwnd ").append(st.cwnd() >> 10)
                    .append(" KiB, server window ").append(st.peerWindow() >> 10).append(" KiB, in flight ")
                    .append(st.bytesInFlight() >> 10).append(" KiB, srtt ")
                    .append(String.format("%.2f", st.srttNs() / 1e6)).append(" ms (min ")
                    .append(String.format("%.2f", st.minRttNs() / 1e6)).append(" ms)");
            }
            return sb.toString();
        }

        /**
         * One "behind:" line per file generation; with {@code onlyBehind} only those whose written bytes
         * are not all durable at the server yet.
         */
        static java.util.List<String> lagLines(AgentCore core, boolean onlyBehind) {
            java.util.List<String> lines = new java.util.ArrayList<>();
            for (AgentCore.FileLag f : core.fileLags()) {
                if (!onlyBehind || f.behind() > 0) {
                    lines.add((f.behind() > 0 ? "behind: " : "up to date: ") + f.line());
                }
            }
            return lines;
        }
    }
}
