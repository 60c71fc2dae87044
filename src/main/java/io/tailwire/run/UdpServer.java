package io.tailwire.run;

import io.tailwire.config.Configuration;
import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.engine.ServerEvents;
import io.tailwire.http.Health;
import io.tailwire.http.MetricRegistry;
import io.tailwire.io.Fs;
import io.tailwire.log.Log;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;
import io.tailwire.server.admin.AdminMetrics;
import io.tailwire.server.admin.AdminServer;
import io.tailwire.server.limit.FairShareLimiter;
import io.tailwire.server.limit.IngestThrottle;
import io.tailwire.server.status.ServerStatus;
import io.tailwire.server.store.OutputStore;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The server process minus its command line: one UDP socket (one per local address when listening on a
 * wildcard) and engine thread, one group-commit writer thread. bin/udp-server runs one; integration tests run several in one JVM.
 */
public final class UdpServer implements AutoCloseable {
    /**
     * Opens a turn's new output paths and forces a group commit's files in parallel (OutputStore.parallelIo).
     * 8: enough concurrent forces for the file system to commit them together; they mostly wait on the disk.
     */
    private final ExecutorService io = Executors.newFixedThreadPool(IO_THREADS, r -> {
        Thread t = new Thread(r, "tailwire-io");
        t.setDaemon(true);
        return t;
    });
    static final int IO_THREADS = 8;
    private final Log log;
    private final OutputStore store;
    private final ServerEndpoint endpoint;
    /** The sockets: one, or with a wildcard --listen one per local address (engine thread after start). */
    private final ArrayList<Sock> socks = new ArrayList<>();
    private final InetSocketAddress bound;
    /** Listening on a wildcard: replies must leave from the socket their connection's datagrams came in on. */
    private final boolean perAddress;
    /** Per agent address, the socket its datagrams last arrived on (perAddress only; engine thread). */
    private final HashMap<InetSocketAddress, Route> routes = new HashMap<>();
    /** Local addresses we could not listen on (logged when that starts and when it ends; engine thread). */
    private final HashSet<InetAddress> unbindable = new HashSet<>();
    private final long routeExpiryNs;
    private boolean sendFailing;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicBoolean durableAdvanced = new AtomicBoolean();
    private final Thread loop;
    private final Thread writer;
    private volatile Throwable failure;
    /** Why a server thread died (one line), for /health; null while none has. */
    private volatile String deathReason;
    /** close() has begun: /ready says so while everything received is made durable. */
    private volatile boolean stopping;
    /** Set by close() (not kill()): the loop says goodbye to every agent before it ends. */
    private volatile boolean graceful;
    /** close() ran (it runs once). */
    private boolean closed;
    /** Bytes the engine still held, unwritten, when the loop stopped: they are not durable. */
    private volatile long notStoredAtStop;
    /** The engine loop's waiter, for the writer and close() to wake it. */
    private volatile Waiter waiter;
    private final IngestThrottle throttle;
    private final ServerStatus status = new ServerStatus();
    private final MetricRegistry metrics;
    private final long memoryBudget;
    private AdminServer admin;

    /**
     * What happens when the engine or writer thread dies of anything (issue 13 item 1): a server whose
     * engine thread is gone still answers /metrics while every agent stalls, so by default the process ends
     * and its supervisor restarts it (the output files are the spool: agents resend what was not durable).
     * Tests replace it so a failure does not end their JVM.
     */
    @FunctionalInterface
    public interface FatalHandler {
        void threadDied(String thread, Throwable cause);
    }

    /** Exit status when a server thread died: EX_SOFTWARE (sysexits.h), an internal error. */
    public static final int EXIT_THREAD_DIED = 70;

    /** Logs and halts: shutdown hooks would wait for the dead thread's work, so none run. */
    public static FatalHandler exitProcess(Log log) {
        return (thread, cause) -> {
            log.error(thread + " thread died (" + cause + "); exiting with status " + EXIT_THREAD_DIED
                + " so the supervisor restarts the server; agents resend what was not durable");
            Runtime.getRuntime().halt(EXIT_THREAD_DIED);
        };
    }

    private final FatalHandler fatal;
    /** Peer-caused warnings, escaped and rate-limited per agent (engine thread). */
    private final PeerLog peerLog;

    /** The protocol engine as the server runs it: a random token secret, ids from a SecureRandom. */
    public static ServerEndpoint newEndpoint(ServerEndpointConfig cfg, io.tailwire.engine.StreamStore store,
                                             io.tailwire.engine.ServerEvents events) {
        byte[] secret = new byte[32];
        SecureRandom rnd = new SecureRandom();
        rnd.nextBytes(secret);
        // The generator itself, not a seed drawn from it: ids from a seeded SplittableRandom could be predicted
        // from the server_instance every WELCOME carries (issue 13 item 7).
        return new ServerEndpoint(cfg, secret, rnd, store, events);
    }


    /** Binds and starts. Throws IOException with a plain message if the address or directory is unusable. */
    public UdpServer(InetSocketAddress listen, Path out, Fs fs, ServerEndpointConfig cfg, OutputStore.Config storeCfg,
                     Log log) throws IOException {
        this(listen, out, fs, cfg, storeCfg, log, new IngestThrottle(), Configuration.MEMORY_BUDGET_BYTES);
    }

    /**
     * Binds and starts with an operator throttle (applied through the windows, shared fairly among the
     * sending agents) and one memory budget for all connections' receive buffers.
     */
    public UdpServer(InetSocketAddress listen, Path out, Fs fs, ServerEndpointConfig cfg, OutputStore.Config storeCfg,
                     Log log, IngestThrottle throttle, long memoryBudgetBytes) throws IOException {
        this(listen, out, fs, cfg, storeCfg, log, throttle, memoryBudgetBytes, exitProcess(log));
    }

    /** As above, with what to do when the engine or writer thread dies (default: {@link #exitProcess}). */
    public UdpServer(InetSocketAddress listen, Path out, Fs fs, ServerEndpointConfig cfg, OutputStore.Config storeCfg,
                     Log log, IngestThrottle throttle, long memoryBudgetBytes, FatalHandler fatal)
        throws IOException {
        this.log = log;
        this.fatal = fatal;
        this.throttle = throttle;
        this.memoryBudget = memoryBudgetBytes;
        // The store's warnings quote refused paths: escaped, so a path cannot forge a log line (issue 13 item 11).
        this.store = new OutputStore(fs, out, storeCfg, m -> log.warn(PeerLog.escape(m)));
        this.peerLog = new PeerLog(log::warn);
        this.metrics = MetricRegistry.withBuildInfo(log::warn);
        store.parallelIo(io);
        this.endpoint = newEndpoint(cfg, store, events(log, status, peerLog));
        endpoint.setMemoryBudget(memoryBudgetBytes);
        endpoint.setServerStreamLimit(storeCfg.maxStreams());
        endpoint.setWindowLimiter(new FairShareLimiter(throttle));
        status.register(metrics, store, memoryBudgetBytes);
        AdminMetrics.registerThrottle(metrics, throttle);
        AdminMetrics.registerAgents(metrics, status);
        this.perAddress = listen.getAddress().isAnyLocalAddress();
        this.routeExpiryNs = cfg.idleTimeoutNs();
        try {
            this.bound = perAddress ? bindEachLocalAddress(listen) : new InetSocketAddress(listen.getAddress(),
                bind(listen).ch.socket().getLocalPort());
        } catch (IOException e) {
            closeChannels();
            store.close();
            throw new IOException("cannot listen on " + listen.getAddress().getHostAddress() + ":" + listen.getPort()
                + ": " + e.getMessage() + " (is another server running? choose another --listen HOST:PORT)", e);
        }
        DatagramChannel ch = socks.get(0).ch;
        // What the kernel granted (Linux reports twice the bytes asked, capped by net.core.rmem_max, counting
        // its per-datagram overhead): about half of it is payload at 1472-byte datagrams.
        endpoint.setSocketBudget(ch.getOption(StandardSocketOptions.SO_RCVBUF) / 2);
        // Group commit: one thread forces every file written since its last force, at most once per
        // MIN_FORCE_INTERVAL_NS; each force covers everything the engine wrote meanwhile, however many agents.
        this.writer = new Thread(this::writerLoop, "tailwire-writer");
        this.writer.setDaemon(true);
        this.loop = new Thread(this::engineLoop, "tailwire-server");
        this.loop.setDaemon(true);
        store.onDirty(() -> LockSupport.unpark(writer));
        writer.start();
        loop.start();
        log.info("listening on " + bound.getAddress().getHostAddress() + ":" + bound.getPort()
            + (perAddress ? " (one socket per local address: " + localList() + "; rescanned every "
                + ADDRESS_RESCAN_NS / 1_000_000_000L + " s)" : "") + ", writing under " + out);
    }

    /** A socket bound to one local address. */
    private record Sock(InetAddress local, DatagramChannel ch) {
    }

    /** Where a connection's replies leave from: the socket its datagrams last arrived on, and when. */
    private static final class Route {
        DatagramChannel ch;
        long seenNs;

        Route(DatagramChannel ch, long seenNs) {
            this.ch = ch;
            this.seenNs = seenNs;
        }
    }

    /**
     * How often a wildcard server looks for local addresses that appeared or went away: 5 s, so a new VIP
     * or secondary address is served within seconds, at the cost of one interface listing per period.
     */
    static final long ADDRESS_RESCAN_NS = 5_000_000_000L;
    /** Attempts to find a port free on every local address when --listen asks for port 0. */
    private static final int PORT_ZERO_ATTEMPTS = 10;

    private Sock bind(InetSocketAddress at) throws IOException {
        DatagramChannel ch = DatagramChannel.open();
        try {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 8 << 20);
            ch.setOption(StandardSocketOptions.SO_SNDBUF, 8 << 20);
            ch.bind(at);
            ch.configureBlocking(false);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        Sock sk = new Sock(at.getAddress(), ch);
        socks.add(sk);
        return sk;
    }

    /**
     * JDK 17 can neither read a datagram's destination address nor choose a reply's source, and a reply
     * from a wildcard socket leaves from the address the kernel picks: an agent that sent to a secondary
     * address or a VIP drops it (its socket is connected to the address it sent to). So a wildcard server
     * binds each local address itself and answers from the socket the datagram came in on.
     */
    private InetSocketAddress bindEachLocalAddress(InetSocketAddress listen) throws IOException {
        List<InetAddress> addrs = localAddresses(listen.getAddress());
        if (addrs.isEmpty()) {
            throw new IOException("no local address to listen on");
        }
        for (int attempt = 1; ; attempt++) {
            int port = listen.getPort();
            try {
                for (InetAddress a : addrs) {
                    try {
                        Sock sk = bind(new InetSocketAddress(a, port));
                        port = sk.ch.socket().getLocalPort();
                    } catch (java.net.BindException e) {
                        if (isInUse(e)) {
                            throw e;
                        }
                        unbindable.add(a); // e.g. an IPv6 address still tentative: retried at the next rescan
                        log.warn("cannot listen on " + a.getHostAddress() + ":" + port + ": " + e.getMessage()
                            + "; retrying every " + ADDRESS_RESCAN_NS / 1_000_000_000L + " s");
                    }
                }
                if (socks.isEmpty()) {
                    throw new IOException("no local address could be bound");
                }
                return new InetSocketAddress(listen.getAddress(), port);
            } catch (java.net.BindException e) {
                closeChannels();
                unbindable.clear();
                // With port 0 the kernel's pick for the first address may be taken on another: pick again.
                if (listen.getPort() != 0 || attempt >= PORT_ZERO_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private static boolean isInUse(java.net.BindException e) {
        return e.getMessage() != null && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("in use");
    }

    /** The up interfaces' addresses a wildcard covers: IPv4 ones for 0.0.0.0, all for ::. */
    static List<InetAddress> localAddresses(InetAddress wildcard) throws IOException {
        boolean v4only = wildcard instanceof Inet4Address;
        TreeMap<String, InetAddress> found = new TreeMap<>();
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!ni.isUp()) {
                continue;
            }
            for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                if (!v4only || a instanceof Inet4Address) {
                    found.put(a.getHostAddress(), a);
                }
            }
        }
        return new ArrayList<>(found.values());
    }

    private String localList() {
        StringBuilder sb = new StringBuilder();
        for (Sock sk : socks) {
            sb.append(sb.length() == 0 ? "" : ", ").append(sk.local.getHostAddress());
        }
        return sb.toString();
    }

    /** Engine thread: follows the local addresses (new ones bound, vanished ones closed); forgets old routes. */
    private void rescan(Waiter w, long nowNs) {
        routes.values().removeIf(r -> nowNs - r.seenNs > routeExpiryNs);
        List<InetAddress> want;
        try {
            want = localAddresses(bound.getAddress());
        } catch (IOException e) {
            return; // the listing failed this time; the sockets we have keep working
        }
        for (java.util.Iterator<Sock> it = socks.iterator(); it.hasNext(); ) {
            Sock sk = it.next();
            if (!want.contains(sk.local)) {
                it.remove();
                routes.values().removeIf(r -> r.ch == sk.ch);
                closeQuietly(sk.ch);
                log.info("local address " + sk.local.getHostAddress() + " went away: stopped listening on it");
            }
        }
        unbindable.retainAll(want);
        for (InetAddress a : want) {
            boolean have = false;
            for (Sock sk : socks) {
                have |= sk.local.equals(a);
            }
            if (have) {
                continue;
            }
            try {
                Sock sk = bind(new InetSocketAddress(a, bound.getPort()));
                w.add(sk.ch);
                log.info((unbindable.remove(a) ? "can listen again" : "new local address") + ": listening on "
                    + a.getHostAddress() + ":" + bound.getPort() + " too");
            } catch (IOException e) {
                if (unbindable.add(a)) {
                    log.warn("cannot listen on new local address " + a.getHostAddress() + ":" + bound.getPort()
                        + ": " + e.getMessage() + "; retrying every " + ADDRESS_RESCAN_NS / 1_000_000_000L + " s");
                }
            }
        }
    }

    /** The socket a reply to {@code to} leaves from. */
    private DatagramChannel channelFor(InetSocketAddress to) {
        if (perAddress) {
            Route r = routes.get(to);
            if (r != null) {
                return r.ch;
            }
            for (Sock sk : socks) {
                if (sk.local.getClass() == to.getAddress().getClass()) {
                    return sk.ch;
                }
            }
        }
        return socks.get(0).ch;
    }

    /** Sends one reply. A wildcard server drops it if its socket's address just vanished (the peer repeats). */
    private void send(ByteBuffer tx, InetSocketAddress to) throws IOException {
        if (!perAddress) {
            socks.get(0).ch.send(tx, to);
            return;
        }
        try {
            channelFor(to).send(tx, to);
            if (sendFailing) {
                sendFailing = false;
                log.info("replies leave again");
            }
        } catch (IOException e) {
            if (!sendFailing) {
                sendFailing = true;
                log.warn("cannot send a reply to " + to.getAddress().getHostAddress() + ":" + to.getPort() + ": "
                    + e.getMessage() + " (a local address may have gone away); dropped, the agent repeats");
            }
            nextRescanNs = System.nanoTime(); // a socket's address may have gone: look now
        }
    }

    private long nextRescanNs;

    /** --debug: how often the engine's counters are summarised (only when they changed): 10 s. */
    static final long DEBUG_SUMMARY_NS = 10_000_000_000L;
    private long nextDebugSummaryNs;
    private ServerEndpoint.Stats lastSummary;

    /** --debug: what the engine did since the last summary; silent when nothing happened. */
    private void debugSummary(ServerEndpoint.Stats st) {
        ServerEndpoint.Stats p = lastSummary;
        lastSummary = st;
        if (p == null || st.datagramsReceived() == p.datagramsReceived()) {
            return;
        }
        log.debug("engine: " + st.connections() + " connection(s); since last: "
            + (st.datagramsReceived() - p.datagramsReceived()) + " datagrams, "
            + (st.datagramsDropped() - p.datagramsDropped()) + " dropped (invalid, unknown connection, beyond the "
            + "buffer), " + (st.dataPackets() - p.dataPackets()) + " DATA, "
            + (st.duplicates() - p.duplicates()) + " duplicates, " + (st.acksSent() - p.acksSent()) + " ACKs, "
            + (st.busyRejections() - p.busyRejections()) + " BUSY, "
            + (st.protocolViolations() - p.protocolViolations()) + " protocol violations, "
            + (st.appendStalls() - p.appendStalls()) + " append stalls");
    }

    /** Log lines about what agents do; every peer-supplied string is escaped (PeerLog.escape). */
    static ServerEvents events(Log log, ServerStatus status, PeerLog peerLog) {
        return new ServerEvents() {
            /** --debug only: when each live connection started (engine clock), for its summary line. */
            private final HashMap<Long, Long> startedNs = new HashMap<>();

            @Override
            public void onConnected(String agentId, InetSocketAddress from, long connectionId) {
                log.info("agent '" + PeerLog.escape(agentId) + "' connected from " + from.getAddress().getHostAddress() + ":"
                    + from.getPort());
                status.onConnected(agentId);
                if (log.debugEnabled()) {
                    startedNs.put(connectionId, System.nanoTime());
                    log.debug("agent '" + PeerLog.escape(agentId) + "' connection " + Long.toHexString(connectionId) + " started");
                }
            }

            @Override
            public void onStreamOpened(String agentId, String path, long generation, long resumeOffset,
                                       StreamStatus status) {
                String who = PeerLog.escape(agentId) + " " + PeerLog.escape(path) + " #" + generation;
                if (status == StreamStatus.OK) {
                    log.info(who + ": stream " + (resumeOffset == 0 ? "opened" : "resumed at offset " + resumeOffset));
                } else {
                    peerLog.warn(agentId, who + ": refused (" + status + ")", System.nanoTime());
                }
            }

            @Override
            public void onClosed(String agentId, long connectionId, CloseCode code) {
                log.info("agent '" + PeerLog.escape(agentId) + "' disconnected (" + code + ")");
            }

            @Override
            public void onConnectionEnded(String agentId, long connectionId, long bytesReceived) {
                status.onConnectionEnded(agentId, bytesReceived);
                Long t0 = startedNs.remove(connectionId);
                if (log.debugEnabled()) {
                    log.debug("agent '" + PeerLog.escape(agentId) + "' connection " + Long.toHexString(connectionId) + " ended: "
                        + bytesReceived + " new payload bytes" + (t0 == null ? ""
                            : String.format(" in %.1f s", (System.nanoTime() - t0) / 1e9)));
                }
            }

            @Override
            public void onAgentIdInUse(String agentId, InetSocketAddress holder, InetSocketAddress refused) {
                log.warn("agent id '" + PeerLog.escape(agentId) + "' is held by " + holder.getAddress().getHostAddress() + ":"
                    + holder.getPort() + "; refused another agent from " + refused.getAddress().getHostAddress()
                    + ":" + refused.getPort() + " (two agents share this id: give each a unique --id)");
            }

            @Override
            public void onLossReport(String agentId, String path, long generation, long from, long to,
                                     String reason) {
                peerLog.warn(agentId, PeerLog.escape(agentId) + " " + PeerLog.escape(path) + " #" + generation
                    + ": agent reports bytes " + from + ".." + to + " LOST at the source (" + PeerLog.escape(reason)
                    + ")", System.nanoTime());
                if (path != null) {
                    status.onLossReport(agentId, to - from); // deduplicated by the engine per stream
                }
            }

            @Override
            public void onPossibleLoss(String agentId, String path, long generation, long at, String reason) {
                peerLog.warn(agentId, PeerLog.escape(agentId) + " " + PeerLog.escape(path) + " #" + generation
                    + ": agent reports a POSSIBLE LOSS of unknown size from byte " + at + " (" + PeerLog.escape(reason)
                    + "); the copy is complete up to there", System.nanoTime());
            }

            @Override
            public void onStorageStalled(String agentId, String path, boolean stalled) {
                if (stalled) {
                    log.warn("agent '" + PeerLog.escape(agentId) + "' " + PeerLog.escape(path) + ": storage refuses writes (disk full or I/O "
                        + "error): window closed, nothing more is acknowledged as durable; retrying");
                } else {
                    log.info("agent '" + PeerLog.escape(agentId) + "': storage takes writes again, window reopened");
                }
            }
        };
    }

    /**
     * Shortest time between the starts of two group-commit rounds: 2 ms, so at most 500 rounds a second.
     * Forcing back to back ran ~3000 fsyncs a second at 10k lines/s and, on the bench VM, stalled every
     * process on the machine for ~10 ms every 100 ms (a plain fsync loop does the same; at 800 a second it
     * does not): the latency bench's p99 was those stalls (BENCHMARKS.md; 1 ms still showed some). IOPS-metered
     * cloud disks charge for each fsync too. It adds up to 2 ms to durable latency; at 130 MB/s a round still
     * covers ~260 KB, far inside the window.
     */
    static final long MIN_FORCE_INTERVAL_NS = 2_000_000L;

    private void writerLoop() {
        try {
            writeRounds();
        } catch (Throwable e) {
            died("writer", e);
        }
    }

    /** A server thread ended by an exception or error while the server was running: the process must end. */
    private void died(String thread, Throwable e) {
        if (running.getAndSet(false)) {
            failure = e;
            deathReason = "server " + thread + " thread died: " + e;
            log.error("server " + thread + " thread stopped: " + e);
            fatal.threadDied(thread, e);
        }
    }

    private void writeRounds() {
        long lastRound = System.nanoTime() - MIN_FORCE_INTERVAL_NS;
        while (running.get()) {
            long wait = lastRound + MIN_FORCE_INTERVAL_NS - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
                continue;
            }
            lastRound = System.nanoTime();
            if (store.unsyncedBytes() > 0 && store.syncDirty() > 0) {
                durableAdvanced.set(true);
                Waiter w = waiter;
                if (w != null) {
                    w.wakeup(); // ACKs carry the new durable offsets and STREAM_CLOSEDs may now be answered
                }
            } else {
                // The store unparks us when a file turns dirty; the timeout only paces retries of failed forces.
                LockSupport.parkNanos(50_000_000);
            }
        }
    }

    private void engineLoop() {
        ByteBuffer rx = ByteBuffer.allocateDirect(65536);
        ByteBuffer tx = ByteBuffer.allocateDirect(65536);
        UnsafeBuffer rxView = new UnsafeBuffer(rx);
        UnsafeBuffer txView = new UnsafeBuffer(tx);
        long nextPublish = System.nanoTime();
        try (Waiter idle = new Waiter(socks.get(0).ch, 1_000_000, 0)) {
            for (int k = 1; k < socks.size(); k++) {
                idle.add(socks.get(k).ch);
            }
            nextRescanNs = System.nanoTime() + ADDRESS_RESCAN_NS;
            waiter = idle;
            while (running.get()) {
                long now = System.nanoTime();
                int work = 0;
                if (now - status.nextPublishNs(nextPublish) >= 0) {
                    status.publish(endpoint, now, Instant.now());
                    peerLog.flush(now); // counts of warnings left out, for periods that ended
                    nextPublish = now + ServerStatus.PUBLISH_INTERVAL_NS;
                    if (log.debugEnabled() && now - nextDebugSummaryNs >= 0) {
                        nextDebugSummaryNs = now + DEBUG_SUMMARY_NS;
                        debugSummary(endpoint.stats());
                    }
                }
                if (perAddress && now - nextRescanNs >= 0) {
                    rescan(idle, now);
                    nextRescanNs = now + ADDRESS_RESCAN_NS;
                }
                for (int k = 0; k < socks.size(); k++) {
                    DatagramChannel ch = socks.get(k).ch;
                    for (int i = 0; i < 256; i++) {
                        rx.clear();
                        SocketAddress from = ch.receive(rx);
                        if (from == null) {
                            break;
                        }
                        if (perAddress) {
                            Route r = routes.get(from);
                            if (r == null) {
                                routes.put((InetSocketAddress) from, new Route(ch, now));
                            } else {
                                if (r.ch != ch && log.debugEnabled()) {
                                    log.debug(from + " now sends to local address " + socks.get(k).local
                                        .getHostAddress() + ": replies follow it");
                                }
                                r.ch = ch;
                                r.seenNs = now;
                            }
                        }
                        endpoint.onDatagram((InetSocketAddress) from, rxView, 0, rx.position(), now);
                        work++;
                    }
                }
                if (durableAdvanced.getAndSet(false)) {
                    endpoint.onDurableAdvanced();
                }
                int len;
                while ((len = endpoint.poll(txView, now)) > 0) {
                    tx.clear().limit(len);
                    send(tx, endpoint.lastDestination());
                    work++;
                }
                if (work > 0) {
                    idle.worked();
                } else if (!durableAdvanced.get()) {
                    idle.idle(now, Math.min(endpoint.nextDeadline(), status.nextPublishNs(nextPublish)));
                }
            }
            if (graceful) {
                long held = 0;
                for (ServerEndpoint.ConnectionInfo c : endpoint.connections()) {
                    held += c.bufferedBytes(); // received but never handed to the store (e.g. it refused them)
                }
                notStoredAtStop = held;
                // Tell every agent at once, so they retry with back-off instead of waiting out a timeout.
                endpoint.closeAll(CloseCode.SERVER_SHUTDOWN, "server shutting down");
                int len;
                long now = System.nanoTime();
                while ((len = endpoint.poll(txView, now)) > 0) {
                    tx.clear().limit(len);
                    send(tx, endpoint.lastDestination());
                }
            }
        } catch (Throwable e) {
            // Not only IOException: an OutOfMemoryError left the engine thread dead and the process up.
            died("engine", e);
        }
    }

    public InetSocketAddress address() {
        return bound;
    }

    public ServerEndpoint endpoint() {
        return endpoint;
    }

    public OutputStore store() {
        return store;
    }

    public IngestThrottle throttle() {
        return throttle;
    }

    public ServerStatus status() {
        return status;
    }

    public MetricRegistry metrics() {
        return metrics;
    }

    /** Liveness and readiness, as GET /health and GET /ready of the admin endpoint show them. */
    public Health health() {
        return health;
    }

    private final Health health = new Health() {
        @Override
        public String notLive() {
            String dead = deathReason;
            if (dead != null) {
                return dead;
            }
            if (!loop.isAlive() || !writer.isAlive()) {
                return (loop.isAlive() ? "writer" : "engine") + " thread is not running"
                    + (stopping ? " (server stopped)" : "");
            }
            return null;
        }

        @Override
        public String notReady() {
            String dead = notLive();
            if (dead != null) {
                return dead;
            }
            if (stopping) {
                return "stopping: making everything received durable and telling agents";
            }
            if (waiter == null) {
                return "starting: the engine loop has not begun";
            }
            // What the engine saw at its last publish (every 250 ms): appends refused, windows closed.
            int stalled = status.counters().stalledConnections();
            if (stalled > 0) {
                return "storage refuses writes (disk full or I/O error) for " + stalled + " connection(s): "
                    + "their windows are closed; retrying";
            }
            int unforced = store.forcesFailing();
            if (unforced > 0) {
                return "storage cannot force " + unforced + " output file(s) to disk (I/O error): nothing more "
                    + "becomes durable; retrying";
            }
            return null;
        }
    };

    public long memoryBudget() {
        return memoryBudget;
    }

    /**
     * Starts the admin HTTP endpoint (GET/POST /throttle, GET /metrics, GET /status, GET /health, GET /ready)
     * on {@code bind}; closed with the server, after a graceful stop's drain (so /ready says "stopping"
     * meanwhile). Throws IOException with a plain message if it cannot bind.
     */
    public synchronized int startAdmin(InetSocketAddress bind) throws IOException {
        metrics.registerJvmMetrics(); // only a served registry needs them (they hook GC notifications)
        AdminServer a = new AdminServer(bind, throttle, metrics, status, health, log::info);
        a.start();
        admin = a;
        log.info("admin endpoint on http://" + bind.getAddress().getHostAddress() + ":" + a.port() + "/");
        return a.port();
    }

    private synchronized void closeAdmin() {
        if (admin != null) {
            admin.close();
            admin = null;
        }
    }

    /** Non-null if the engine loop died. */
    public Throwable failure() {
        return failure;
    }

    public boolean running() {
        return running.get();
    }

    /**
     * Graceful stop: everything received is made durable before this returns. Runs once: udp-server's shutdown
     * hook and its main thread both call it on SIGTERM, and a second caller waits for the first to finish.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopping = true;
        graceful = true;
        stopThreads();
        store.syncDirty();
        long undurable = store.shutdown() + notStoredAtStop;
        io.shutdown();
        closeChannels();
        if (undurable == 0) {
            log.info("stopped; all received data is durable");
        } else {
            // Never claim durability we do not have: the agents keep these bytes and resend them on reconnect.
            log.warn("stopped; " + undurable + " received bytes are not durable (see the errors above); agents"
                + " still hold them and resend them after the restart");
        }
        closeAdmin();
    }

    /**
     * Stops like kill -9 would, as far as one JVM can: threads stop, the socket closes, nothing more is
     * forced. Written bytes stay in the page cache, as with a real process kill.
     */
    public void kill() {
        closeAdmin();
        stopThreads();
        io.shutdownNow();
        closeChannels();
    }

    private void stopThreads() {
        running.set(false);
        Waiter w = waiter;
        if (w != null) {
            w.wakeup();
        }
        try {
            loop.join(5000);
            writer.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeChannels() {
        for (Sock sk : socks) {
            closeQuietly(sk.ch);
        }
        socks.clear();
    }

    private static void closeQuietly(DatagramChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing: nothing left to do with it
        }
    }

    /** The ServerEndpoint configuration the command line builds. */
    public static ServerEndpointConfig config(int maxDatagram, int maxConnections, long connectionBuffer,
                                              int maxStreams) {
        ServerEndpointConfig d = ServerEndpointConfig.defaults();
        return new ServerEndpointConfig(maxDatagram, maxConnections, connectionBuffer,
            (int) Math.min(Configuration.INITIAL_WINDOW_BYTES, connectionBuffer), maxStreams, d.idleTimeoutNs(), d.keepaliveNs(),
            d.maxAckDelayNs(), d.tokenValidityNs(), d.busyRetryAfterMs(), d.appendRetryNs());
    }
}
