package io.tailwire.run;

import io.tailwire.cli.Log;
import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.engine.ServerEvents;
import io.tailwire.io.Fs;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;
import io.tailwire.server.FairShareLimiter;
import io.tailwire.server.OutputStore;
import io.tailwire.server.ServerStatus;
import io.tailwire.server.admin.AdminMetrics;
import io.tailwire.server.admin.AdminServer;
import io.tailwire.server.admin.IngestThrottle;
import io.tailwire.server.admin.Metrics;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The server process minus its command line: one UDP socket and engine thread, one group-commit
 * writer thread. bin/udp-server runs one; integration tests run several in one JVM.
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
    private final DatagramChannel channel;
    private final InetSocketAddress bound;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicBoolean durableAdvanced = new AtomicBoolean();
    private final Thread loop;
    private final Thread writer;
    private volatile Throwable failure;
    /** Set by close() (not kill()): the loop says goodbye to every agent before it ends. */
    private volatile boolean graceful;
    /** Bytes the engine still held, unwritten, when the loop stopped: they are not durable. */
    private volatile long notStoredAtStop;
    /** The engine loop's waiter, for the writer and close() to wake it. */
    private volatile Waiter waiter;
    private final IngestThrottle throttle;
    private final ServerStatus status = new ServerStatus();
    private final Metrics metrics = new Metrics();
    private final long memoryBudget;
    private AdminServer admin;

    /** Default memory budget shared by all connections' receive buffers (--memory-budget). */
    public static final long DEFAULT_MEMORY_BUDGET = 256L << 20;

    /** Binds and starts. Throws IOException with a plain message if the address or directory is unusable. */
    public UdpServer(InetSocketAddress listen, Path out, Fs fs, ServerEndpointConfig cfg, OutputStore.Config storeCfg,
                     Log log) throws IOException {
        this(listen, out, fs, cfg, storeCfg, log, new IngestThrottle(), DEFAULT_MEMORY_BUDGET);
    }

    /**
     * Binds and starts with an operator throttle (applied through the windows, shared fairly among the
     * sending agents) and one memory budget for all connections' receive buffers.
     */
    public UdpServer(InetSocketAddress listen, Path out, Fs fs, ServerEndpointConfig cfg, OutputStore.Config storeCfg,
                     Log log, IngestThrottle throttle, long memoryBudgetBytes) throws IOException {
        this.log = log;
        this.throttle = throttle;
        this.memoryBudget = memoryBudgetBytes;
        this.store = new OutputStore(fs, out, storeCfg, log::warn);
        store.parallelIo(io);
        byte[] secret = new byte[32];
        SecureRandom rnd = new SecureRandom();
        rnd.nextBytes(secret);
        this.endpoint = new ServerEndpoint(cfg, secret, rnd.nextLong(), store, events(log, status));
        endpoint.setMemoryBudget(memoryBudgetBytes);
        endpoint.setWindowLimiter(new FairShareLimiter(throttle));
        status.register(metrics, store, memoryBudgetBytes);
        AdminMetrics.registerThrottle(metrics, throttle);
        AdminMetrics.registerAgents(metrics, status);
        DatagramChannel ch = DatagramChannel.open();
        try {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 8 << 20);
            ch.setOption(StandardSocketOptions.SO_SNDBUF, 8 << 20);
            ch.bind(listen);
            ch.configureBlocking(false);
        } catch (IOException e) {
            ch.close();
            store.close();
            throw new IOException("cannot listen on " + listen.getAddress().getHostAddress() + ":" + listen.getPort()
                + ": " + e.getMessage() + " (is another server running? choose another --listen HOST:PORT)", e);
        }
        this.channel = ch;
        this.bound = (InetSocketAddress) ch.getLocalAddress();
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
        log.info("listening on " + bound.getAddress().getHostAddress() + ":" + bound.getPort() + ", writing under "
            + out);
    }

    private static ServerEvents events(Log log, ServerStatus status) {
        return new ServerEvents() {
            @Override
            public void onConnected(String agentId, InetSocketAddress from, long connectionId) {
                log.info("agent '" + agentId + "' connected from " + from.getAddress().getHostAddress() + ":"
                    + from.getPort());
            }

            @Override
            public void onStreamOpened(String agentId, String path, long generation, long resumeOffset,
                                       StreamStatus status) {
                if (status == StreamStatus.OK) {
                    log.info(agentId + " " + path + " #" + generation + ": stream "
                        + (resumeOffset == 0 ? "opened" : "resumed at offset " + resumeOffset));
                } else {
                    log.warn(agentId + " " + path + " #" + generation + ": refused (" + status + ")");
                }
            }

            @Override
            public void onClosed(String agentId, long connectionId, CloseCode code) {
                log.info("agent '" + agentId + "' disconnected (" + code + ")");
            }

            @Override
            public void onLossReport(String agentId, String path, long generation, long from, long to,
                                     String reason) {
                log.warn(agentId + " " + path + " #" + generation + ": agent reports bytes " + from + ".." + to
                    + " LOST at the source (" + reason + ")");
                if (path != null) {
                    status.onLossReport(agentId, to - from); // deduplicated by the engine per stream
                }
            }

            @Override
            public void onStorageStalled(String agentId, String path, boolean stalled) {
                if (stalled) {
                    log.warn("agent '" + agentId + "' " + path + ": storage refuses writes (disk full or I/O "
                        + "error): window closed, nothing more is acknowledged as durable; retrying");
                } else {
                    log.info("agent '" + agentId + "': storage takes writes again, window reopened");
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
        try (Waiter idle = new Waiter(channel, 1_000_000, 0)) {
            waiter = idle;
            while (running.get()) {
                long now = System.nanoTime();
                int work = 0;
                if (now - nextPublish >= 0) {
                    status.publish(endpoint, now, Instant.now());
                    nextPublish = now + ServerStatus.PUBLISH_INTERVAL_NS;
                }
                for (int i = 0; i < 256; i++) {
                    rx.clear();
                    SocketAddress from = channel.receive(rx);
                    if (from == null) {
                        break;
                    }
                    endpoint.onDatagram((InetSocketAddress) from, rxView, 0, rx.position(), now);
                    work++;
                }
                if (durableAdvanced.getAndSet(false)) {
                    endpoint.onDurableAdvanced();
                }
                int len;
                while ((len = endpoint.poll(txView, now)) > 0) {
                    tx.clear().limit(len);
                    channel.send(tx, endpoint.lastDestination());
                    work++;
                }
                if (work > 0) {
                    idle.worked();
                } else if (!durableAdvanced.get()) {
                    idle.idle(now, Math.min(endpoint.nextDeadline(), nextPublish));
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
                    channel.send(tx, endpoint.lastDestination());
                }
            }
        } catch (IOException | RuntimeException e) {
            if (running.get()) {
                failure = e;
                log.error("server loop stopped: " + e);
                running.set(false);
            }
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

    public Metrics metrics() {
        return metrics;
    }

    public long memoryBudget() {
        return memoryBudget;
    }

    /**
     * Starts the admin HTTP endpoint (GET/POST /throttle, GET /metrics, GET /status) on {@code bind};
     * closed with the server. Throws IOException with a plain message if it cannot bind.
     */
    public synchronized int startAdmin(InetSocketAddress bind) throws IOException {
        AdminServer a = new AdminServer(bind, throttle, metrics, status, log::info);
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

    /** Graceful stop: everything received is made durable before this returns. */
    @Override
    public void close() {
        closeAdmin();
        graceful = true;
        stopThreads();
        store.syncDirty();
        long undurable = store.shutdown() + notStoredAtStop;
        io.shutdown();
        closeChannel();
        if (undurable == 0) {
            log.info("stopped; all received data is durable");
        } else {
            // Never claim durability we do not have: the agents keep these bytes and resend them on reconnect.
            log.warn("stopped; " + undurable + " received bytes are not durable (see the errors above); agents"
                + " still hold them and resend them after the restart");
        }
    }

    /**
     * Stops like kill -9 would, as far as one JVM can: threads stop, the socket closes, nothing more is
     * forced. Written bytes stay in the page cache, as with a real process kill.
     */
    public void kill() {
        closeAdmin();
        stopThreads();
        io.shutdownNow();
        closeChannel();
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

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing: nothing left to do with it
        }
    }

    /** The ServerEndpoint configuration the command line builds. */
    public static ServerEndpointConfig config(int maxDatagram, int maxConnections, long connectionBuffer,
                                              int maxStreams) {
        ServerEndpointConfig d = ServerEndpointConfig.defaults();
        return new ServerEndpointConfig(maxDatagram, maxConnections, connectionBuffer,
            (int) Math.min(256 * 1024, connectionBuffer), maxStreams, d.idleTimeoutNs(), d.keepaliveNs(),
            d.maxAckDelayNs(), d.tokenValidityNs(), d.busyRetryAfterMs(), d.appendRetryNs());
    }
}
