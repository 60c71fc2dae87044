package io.tailwire.tools;

import io.tailwire.cli.Cli;
import com.beust.jcommander.Parameter;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * bin/udp-chaos: a UDP proxy that injects loss, duplication, reordering, delay, jitter, blackouts and a rate
 * limit, each direction from its own seeded random stream. Every client source address gets its own upstream
 * socket, so the server sees one peer per client and replies reach the right client. Faults are decided by
 * {@link ChaosLane}/{@link FaultDecider}; this class only moves bytes.
 */
public final class ChaosProxy {
    public static final String PROGRAM = "udp-chaos";

    public enum Direction { both, up, down }

    public static final class Options implements Cli.HasHelp {
        @Parameter(names = "--listen", description = "HOST:PORT clients send to", required = true)
        public String listen;

        @Parameter(names = "--upstream", description = "HOST:PORT of the real server", required = true)
        public String upstream;

        @Parameter(names = "--seed", description = "Seed of the fault decisions")
        public long seed = 1;

        @Parameter(names = "--loss", description = "Drop probability, 0..1")
        public double loss = 0;

        @Parameter(names = "--dup", description = "Duplication probability, 0..1")
        public double dup = 0;

        @Parameter(names = "--reorder", description = "Probability a datagram is held back behind the next one, 0..1")
        public double reorder = 0;

        @Parameter(names = "--reorder-hold-ms", description = "Longest a held-back datagram waits for a successor")
        public double reorderHoldMs = 50;

        @Parameter(names = "--delay-ms", description = "Fixed delay added to every datagram")
        public double delayMs = 0;

        @Parameter(names = "--jitter-ms", description = "Extra uniform random delay in [0, J]")
        public double jitterMs = 0;

        @Parameter(names = "--blackout", description = "START_MS:DURATION_MS after start during which all is dropped "
            + "(repeatable)")
        public List<String> blackouts = new ArrayList<>();

        @Parameter(names = "--rate", description = "Policer rate in bytes/s per direction; excess is dropped (0 = none)")
        public long rate = 0;

        @Parameter(names = "--burst", description = "Policer bucket in bytes (default: 50 ms of --rate, at least 3000)")
        public long burst = 0;

        @Parameter(names = "--faults", description = "Which direction gets the faults: both, up (client->server), "
            + "down (server->client)")
        public Direction direction = Direction.both;

        @Parameter(names = "--report-every", description = "Print the counters every N seconds (0 = only at exit)")
        public double reportEvery = 0;

        @Parameter(names = "--duration", description = "Exit after N seconds (0 = run until SIGINT/SIGTERM)")
        public double duration = 0;

        @Parameter(names = {"--help", "-h"}, help = true, description = "Show this help")
        public boolean help;

        @Override
        public boolean help() {
            return help;
        }
    }

    /** One client source address and the upstream socket opened for it. */
    private static final class Session {
        final SocketAddress client;
        final DatagramChannel upstream;

        Session(SocketAddress client, DatagramChannel upstream) {
            this.client = client;
            this.upstream = upstream;
        }
    }

    private final Options opts;
    private final InetSocketAddress listenAddr;
    private final InetSocketAddress upstreamAddr;
    private final ChaosLane<Session> up;
    private final ChaosLane<Session> down;
    private final Map<SocketAddress, Session> sessions = new HashMap<>();
    private final PrintStream out;
    private volatile boolean stop;
    private volatile Selector selector;
    private volatile InetSocketAddress boundAddress;
    private final CountDownLatch bound = new CountDownLatch(1);
    private long startNanos;

    ChaosProxy(Options o, InetSocketAddress listen, InetSocketAddress upstream, ChaosConfig faults, PrintStream out) {
        this.opts = o;
        this.listenAddr = listen;
        this.upstreamAddr = upstream;
        this.out = out;
        ChaosConfig none = ChaosConfig.none();
        // Distinct, fixed seeds per direction: the same --seed replays the same decisions in each direction.
        this.up = new ChaosLane<>(o.direction == Direction.down ? none : faults, mix(o.seed, 1));
        this.down = new ChaosLane<>(o.direction == Direction.up ? none : faults, mix(o.seed, 2));
    }

    static long mix(long seed, long lane) {
        long z = seed + lane * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o = new Options();
        InetSocketAddress listen;
        InetSocketAddress upstream;
        ChaosConfig faults;
        try {
            Cli.parse(PROGRAM, o, args, out, err);
            try {
                listen = parseAddress(o.listen, "--listen");
                upstream = parseAddress(o.upstream, "--upstream");
                List<ChaosConfig.Blackout> blackouts = new ArrayList<>();
                for (String b : o.blackouts) {
                    blackouts.add(parseBlackout(b));
                }
                if (o.reportEvery < 0 || o.duration < 0) {
                    throw new IllegalArgumentException("--report-every and --duration must be >= 0");
                }
                faults = new ChaosConfig(o.loss, o.dup, o.reorder, millisToNanos(o.delayMs, "--delay-ms"),
                    millisToNanos(o.jitterMs, "--jitter-ms"), blackouts, o.rate,
                    o.burst > 0 ? o.burst : ChaosConfig.defaultBurst(o.rate), millisToNanos(o.reorderHoldMs,
                    "--reorder-hold-ms"));
            } catch (IllegalArgumentException e) {
                throw Cli.usageError(PROGRAM, e.getMessage(), err);
            }
        } catch (Cli.Exit e) {
            return e.code;
        }
        ChaosProxy proxy = new ChaosProxy(o, listen, upstream, faults, out);
        CountDownLatch summarized = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            proxy.requestStop();
            try {
                // Wait until the loop has stopped and printed its summary, so the JVM does not exit before.
                summarized.await(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "udp-chaos-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            proxy.runLoop();
            return 0;
        } catch (IOException e) {
            err.println(PROGRAM + ": " + e);
            return 1;
        } finally {
            proxy.printSummary("summary");
            summarized.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Already in shutdown (signal): the hook is running and waits for us.
            }
        }
    }

    static InetSocketAddress parseAddress(String s, String flag) {
        try {
            return io.tailwire.cli.HostPort.parse(s);
        } catch (com.beust.jcommander.ParameterException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage());
        }
    }

    static ChaosConfig.Blackout parseBlackout(String s) {
        String[] parts = s.split(":");
        if (parts.length != 2) {
            throw new IllegalArgumentException("--blackout wants START_MS:DURATION_MS, got '" + s + "'");
        }
        try {
            return new ChaosConfig.Blackout(millisToNanos(Double.parseDouble(parts[0]), "--blackout"),
                millisToNanos(Double.parseDouble(parts[1]), "--blackout"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--blackout wants numbers, got '" + s + "'");
        }
    }

    static long millisToNanos(double ms, String flag) {
        if (!(ms >= 0)) {
            throw new IllegalArgumentException(flag + " must be >= 0");
        }
        return Math.round(ms * 1e6);
    }

    void runLoop() throws IOException {
        selector = Selector.open();
        try (Selector sel = selector; DatagramChannel listen = DatagramChannel.open()) {
            listen.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            listen.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
            listen.bind(listenAddr);
            listen.configureBlocking(false);
            listen.register(sel, SelectionKey.OP_READ, null);
            boundAddress = (InetSocketAddress) listen.getLocalAddress();
            bound.countDown();
            out.printf("%s: %s -> %s, seed %d%n", PROGRAM, listen.getLocalAddress(), upstreamAddr, opts.seed);
            out.flush();
            ByteBuffer buf = ByteBuffer.allocateDirect(65536);
            startNanos = System.nanoTime();
            long reportEvery = (long) (opts.reportEvery * 1e9);
            long nextReport = reportEvery > 0 ? reportEvery : Long.MAX_VALUE;
            long endAt = opts.duration > 0 ? (long) (opts.duration * 1e9) : Long.MAX_VALUE;
            while (!stop) {
                long now = now();
                if (now >= endAt) {
                    break;
                }
                if (now >= nextReport) {
                    printSummary("report");
                    nextReport += reportEvery;
                }
                long deadline = Math.min(Math.min(up.nextDeadline(), down.nextDeadline()), Math.min(nextReport, endAt));
                if (deadline == Long.MAX_VALUE) {
                    sel.select();
                } else if (deadline > now) {
                    // select() has millisecond resolution; round up so we never spin before a deadline.
                    long waitMs = (deadline - now + 999_999) / 1_000_000;
                    sel.select(waitMs);
                } else {
                    sel.selectNow();
                }
                for (SelectionKey key : sel.selectedKeys()) {
                    if (!key.isValid() || !key.isReadable()) {
                        continue;
                    }
                    if (key.attachment() == null) {
                        readClients(listen, buf, sel);
                    } else {
                        readUpstream((Session) key.attachment(), buf);
                    }
                }
                sel.selectedKeys().clear();
                now = now();
                drain(up, now, listen, buf, true);
                drain(down, now, listen, buf, false);
            }
        } finally {
            for (Session s : sessions.values()) {
                s.upstream.close();
            }
        }
    }

    /** The address actually listened on (port 0 resolved), once the loop has bound it; null on timeout. */
    InetSocketAddress awaitBound(long timeoutMs) throws InterruptedException {
        bound.await(timeoutMs, TimeUnit.MILLISECONDS);
        return boundAddress;
    }

    /** Asks the loop to stop; it prints nothing itself (run() prints the summary). */
    void requestStop() {
        stop = true;
        Selector s = selector;
        if (s != null) {
            s.wakeup();
        }
    }

    private long now() {
        return System.nanoTime() - startNanos;
    }

    private void readClients(DatagramChannel listen, ByteBuffer buf, Selector sel) throws IOException {
        while (true) {
            buf.clear();
            SocketAddress from = listen.receive(buf);
            if (from == null) {
                return;
            }
            Session s = sessions.get(from);
            if (s == null) {
                DatagramChannel ch = DatagramChannel.open();
                ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
                ch.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
                ch.connect(upstreamAddr);
                ch.configureBlocking(false);
                s = new Session(from, ch);
                ch.register(sel, SelectionKey.OP_READ, s);
                sessions.put(from, s);
            }
            buf.flip();
            byte[] data = new byte[buf.remaining()];
            buf.get(data);
            up.offer(now(), data, s);
        }
    }

    private void readUpstream(Session s, ByteBuffer buf) {
        while (true) {
            buf.clear();
            try {
                if (s.upstream.receive(buf) == null) {
                    return;
                }
            } catch (IOException e) {
                // e.g. ICMP port unreachable while the server is down: nothing to read, keep the session.
                return;
            }
            buf.flip();
            byte[] data = new byte[buf.remaining()];
            buf.get(data);
            down.offer(now(), data, s);
        }
    }

    private void drain(ChaosLane<Session> lane, long now, DatagramChannel listen, ByteBuffer buf, boolean toUpstream) {
        ChaosLane.Pending<Session> p;
        while ((p = lane.poll(now)) != null) {
            buf.clear();
            buf.put(p.data).flip();
            try {
                int n = toUpstream ? p.dest.upstream.write(buf) : listen.send(buf, p.dest.client);
                if (n == 0) {
                    lane.counters().sendErrors++; // socket buffer full: the datagram is lost, as on a real link
                }
            } catch (IOException e) {
                lane.counters().sendErrors++;
            }
        }
    }

    void printSummary(String what) {
        double secs = startNanos == 0 ? 0 : (System.nanoTime() - startNanos) / 1e9;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%s %s after %.3f s (seed %d, %d clients)%n", PROGRAM, what, secs, opts.seed,
            sessions.size()));
        sb.append(String.format("%-16s %10s %10s %9s %9s %9s %10s %10s %9s %9s %9s %8s%n", "direction", "received",
            "forwarded", "loss", "blackout", "rate", "duplicated", "reordered", "hold-tmo", "delayed", "send-err",
            "backlog"));
        row(sb, "client->upstream", up);
        row(sb, "upstream->client", down);
        out.print(sb);
        out.flush();
    }

    private static void row(StringBuilder sb, String name, ChaosLane<?> lane) {
        ChaosLane.Counters c = lane.counters();
        sb.append(String.format("%-16s %10d %10d %9d %9d %9d %10d %10d %9d %9d %9d %8d%n", name, c.received,
            c.forwarded, c.lossDrops, c.blackoutDrops, c.rateDrops, c.duplicated, c.reordered, c.reorderTimeouts,
            c.delayed, c.sendErrors, lane.backlog()));
    }
}
