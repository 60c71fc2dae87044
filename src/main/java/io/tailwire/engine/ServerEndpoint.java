package io.tailwire.engine;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.SplittableRandom;

import com.google.protobuf.MessageLite;

import io.tailwire.proto.Close;
import io.tailwire.proto.CloseCode;
import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.HeaderFlyweight;
import io.tailwire.wire.PingFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Server side of the protocol for all connections of one socket (wire-spec.md sections 2-8), sans-IO. This
 * class is the front door: it routes datagrams to the rooms that handle them and runs the turn. The rooms:
 * {@link ServerHandshake} (HELLO, RETRY cookie, WELCOME), {@link ServerConnections} (the table, per-address
 * state, closing), {@link ServerControl} (stream open/close, loss reports), {@link ServerDataPath} (reorder
 * ring, delivery to the store), {@link ServerAcks} (ACK content), {@link ServerWindows} (receive windows,
 * memory and socket budgets, limiter), {@link ServerReplies} (queued control datagrams); a connection's state
 * is a {@link ServerConnection}. DATA and ACK handling reuse per-connection slot buffers and flyweights.
 * Not thread-safe: one thread drives it (see {@link EngineThread}); {@link #setSourceLimits} is the exception.
 */
@EngineThread
public final class ServerEndpoint {
    /**
     * Heap a buffered packet costs beyond its datagram bytes: the UnsafeBuffer object and the array header
     * (about 80 bytes on a 64-bit JVM, rounded up). Charged so that many tiny packets cannot hide their cost.
     */
    static final int SLOT_OVERHEAD_BYTES = 96;
    /**
     * Highest generation number a STREAM_OPEN may name: 2^32. Generations count a path's rotations and
     * truncations (one a second for 136 years), and n+1 can never wrap a 64-bit number (wire-spec 6.1).
     */
    public static final long MAX_GENERATION = 1L << 32;
    /**
     * Largest offset a LOSS_REPORT may count up to: 2^44 bytes (16 TiB), ext4's largest file; a generation is one
     * file, so no honest report reaches past it (wire-spec 6.5).
     */
    public static final long MAX_LOSS_OFFSET = 1L << 44;

    /** A snapshot of counters. */
    public record Stats(long datagramsReceived, long datagramsDropped, long dataPackets, long duplicates,
                        long acksSent, long retriesSent, long welcomesSent, long resetsSent, long busyRejections,
                        long agentIdRefusals, long protocolViolations, long appendStalls, int connections) {
    }

    /** What the server shows about one connection; see {@link #connections()}. */
    public record ConnectionInfo(String agentId, InetSocketAddress address, long connectedAtNs, long lastReceivedNs,
                                 long window, long bytesReceived, long bufferedBytes, long heldBytes, boolean stalled,
                                 java.util.List<StreamInfo> streams) {
    }

    /** One open stream of a connection. */
    public record StreamInfo(String path, long generation, long held, long durable) {
    }

    private final ServerEndpointConfig cfg;
    private final long serverInstance;
    private final StreamStore store;
    private final ServerCounters counters = new ServerCounters();
    private final ServerReplies replies;
    private final ServerWindows windows;
    private final ServerConnections table;
    private final ServerHandshake handshake;
    private final ServerControl control;
    private final ServerDataPath dataPath;
    private final ServerAcks acks;
    private final ServerTimers timers;
    /** This turn's connections with an expired deadline (collected from the timers at the start of poll). */
    private final ArrayList<ServerConnection> expired = new ArrayList<>();

    private int roundRobin;
    private InetSocketAddress lastDestination;
    private boolean durableAdvanced;
    private long lastNowNs;
    /** When a failed store flush is retried; Long.MAX_VALUE when none failed. */
    private long storeRetryNs = Long.MAX_VALUE;

    private final HeaderFlyweight header = new HeaderFlyweight();
    private final PingFlyweight ping = new PingFlyweight();

    /**
     * Deterministic ids from {@code seed}: for tests and the simulator, which must replay. Anyone who sees one
     * server_instance can predict every connection id (SplittableRandom's step is invertible), so a server
     * facing a network uses the constructor taking a SecureRandom.
     */
    public ServerEndpoint(ServerEndpointConfig cfg, byte[] secret, long seed, StreamStore store, ServerEvents events) {
        this(cfg, secret, new SplittableRandom(seed), store, events);
    }

    /**
     * Ids and server_instance from {@code ids}: a {@link java.security.SecureRandom} in the real server, so blind
     * injection (spoofed DATA or CLOSE) needs the 64-bit id guessed (issue 13 item 7).
     */
    public ServerEndpoint(ServerEndpointConfig cfg, byte[] secret, java.util.random.RandomGenerator ids,
                          StreamStore store, ServerEvents events) {
        this.cfg = cfg;
        this.serverInstance = ids.nextLong();
        this.store = store;
        ServerEvents ev = events == null ? ServerEvents.NONE : events;
        this.replies = new ServerReplies(cfg.maxDatagramSize());
        this.windows = new ServerWindows(cfg);
        this.timers = new ServerTimers(cfg.idleTimeoutNs());
        this.table = new ServerConnections(replies, windows, counters, ev, timers);
        this.handshake = new ServerHandshake(cfg, new RetryTokens(secret, cfg.tokenValidityNs()), ids, serverInstance,
            table, replies, windows, counters, ev);
        this.control = new ServerControl(cfg, store, table, replies, counters, ev);
        this.dataPath = new ServerDataPath(cfg, table, windows, control, counters, ev);
        this.acks = new ServerAcks(windows, counters);
    }

    // ---------------------------------------------------------------- settings and status

    /** Applies a rate limit through the advertised windows (default: none). Engine thread only. */
    public void setWindowLimiter(WindowLimiter limiter) {
        windows.limiter = limiter == null ? WindowLimiter.NONE : limiter;
    }

    /**
     * The receive socket's buffer in payload bytes (wire-spec.md 7.1). All active connections' windows
     * together stay within it (each gets at least one datagram), so a herd of agents cannot overflow the
     * socket, where UDP would drop datagrams silently: 1000 agents starting at once lost 33,000 datagrams
     * there and some stalled for seconds in retransmission back-off.
     */
    public void setSocketBudget(long bytes) {
        windows.socketBudgetBytes = Math.max(1, bytes);
    }

    /**
     * One memory budget for all connections' receive buffers (reorder buffer plus written-but-not-durable
     * bytes): each active connection's window comes from at most budget / active connections.
     */
    public void setMemoryBudget(long bytes) {
        if (bytes < cfg.maxDatagramSize()) {
            throw new IllegalArgumentException("memory budget below one datagram: " + bytes);
        }
        windows.memoryBudgetBytes = bytes;
    }

    /**
     * The store's server-wide limit on open streams (OutputStore.Config.maxStreams): each agent's quota is a
     * share of it (wire-spec 6.1). Engine thread, before traffic.
     */
    public void setServerStreamLimit(int streams) {
        control.serverStreamLimit = Math.max(1, streams);
    }

    /** Limits per source IP address: live connections, and new connections per second (wire-spec 3). Any thread. */
    public void setSourceLimits(int connections, int handshakesPerSecond) {
        handshake.setSourceLimits(connections, handshakesPerSecond);
    }

    /** Connections counted as active for the memory share (sent DATA in the last second). */
    public int activeConnections() {
        return windows.activeConnections;
    }

    /** New payload bytes received (duplicates not counted). */
    public long bytesReceived() {
        return counters.bytesReceived;
    }

    /** Bytes agents reported lost at the source with LOSS_REPORT. */
    public long lossReportedBytes() {
        return counters.lossReportedBytes;
    }

    /** Possible losses of unknown size agents reported (an empty LOSS_REPORT range, wire-spec.md 6.5). */
    public long possibleLosses() {
        return counters.possibleLosses;
    }

    /** A snapshot of every connection, for status pages. Allocates: call it a few times a second at most. */
    public java.util.List<ConnectionInfo> connections() {
        ArrayList<ConnectionInfo> list = new ArrayList<>(table.size());
        for (ServerConnection c : table.all()) {
            ArrayList<StreamInfo> ss = new ArrayList<>(c.streams.size());
            for (ServerStream s : c.streams.values()) {
                if (s.stored != null) {
                    long held = s.stored.held();
                    ss.add(new StreamInfo(s.path, s.generation, held, Math.min(held, s.stored.durable())));
                }
            }
            list.add(new ConnectionInfo(c.agentId, c.address, c.connectedAtNs, c.lastReceivedNs,
                c.lastAdvertisedWindow, c.bytesReceived, c.bufferedBytes, c.heldBytes, c.stalled(),
                java.util.List.copyOf(ss)));
        }
        return list;
    }

    /**
     * Heap held by every connection's reorder ring, counted from the buffers themselves (not the charge kept
     * as they come and go): capacity plus SLOT_OVERHEAD_BYTES per buffered packet. For tests and metrics.
     */
    public long reorderHeapBytes() {
        long sum = 0;
        for (ServerConnection c : table.all()) {
            for (UnsafeBuffer b : c.slots) {
                if (b != null) {
                    sum += b.capacity() + SLOT_OVERHEAD_BYTES;
                }
            }
        }
        return sum;
    }

    /** Connections the timer room has examined so far (ServerTimers.touched): for tests that count a turn's work. */
    long timersTouched() {
        return timers.touched;
    }

    public int connectionCount() {
        return table.size();
    }

    /** Quiet connections closed to admit a newcomer to a full table, for metrics. */
    public long evictions() {
        return counters.evictions;
    }

    /** STREAM_OPENs refused with QUOTA_EXCEEDED, for metrics. */
    public long quotaRefusals() {
        return counters.quotaRefusals;
    }

    /** Connections closed with EXCEEDED_ALLOWANCE (wire-spec.md 7.1), for metrics. */
    public long exceededAllowance() {
        return counters.exceededAllowance;
    }

    /** HELLOs refused with AGENT_ID_IN_USE (wire-spec.md 3), for metrics. */
    public long agentIdRefusals() {
        return counters.agentIdRefusals;
    }

    public long serverInstance() {
        return serverInstance;
    }

    public InetSocketAddress lastDestination() {
        return lastDestination;
    }

    public Stats stats() {
        ServerCounters k = counters;
        return new Stats(k.datagramsReceived, k.dropped, k.dataPackets, k.duplicates, k.acksSent, k.retriesSent,
            k.welcomesSent, k.resetsSent, k.busyRejections, k.agentIdRefusals, k.protocolViolations, k.appendStalls,
            table.size());
    }

    /** Durable offsets moved: report them in ACKs soon and answer pending STREAM_CLOSE. */
    public void onDurableAdvanced() {
        durableAdvanced = true;
    }

    /**
     * Closes every connection with CLOSE(code), e.g. SERVER_SHUTDOWN; the CLOSE datagrams come out of the
     * following polls (each connection's is queued once; drain with poll before closing the socket).
     */
    public void closeAll(CloseCode code, String reason) {
        for (ServerConnection c : new ArrayList<>(table.all())) {
            table.close(c, code, reason, true);
        }
    }

    // ---------------------------------------------------------------- input

    public void onDatagram(InetSocketAddress from, DirectBuffer buf, int index, int length, long nowNs) {
        counters.datagramsReceived++;
        lastNowNs = nowNs;
        header.wrap(buf, index, length);
        int rc = header.validate(Math.max(cfg.maxDatagramSize(), Wire.MIN_HELLO_LENGTH));
        if (rc == Wire.ERR_VERSION) {
            // Checksum passed, so this is a real datagram of another version: tell a HELLO what we speak.
            if (header.type() == Wire.TYPE_HELLO && length >= Wire.MIN_HELLO_LENGTH) {
                replies.control(from, length, 0, Close.newBuilder().setCode(CloseCode.UNSUPPORTED_VERSION)
                    .setReason("version 1 only").addSupportedVersions(Wire.VERSION).build());
            }
            counters.dropped++;
            return;
        }
        if (rc != Wire.OK) {
            counters.dropped++;
            return;
        }
        int type = header.type();
        if (type == Wire.TYPE_HELLO) {
            handshake.onHello(from, buf, index, length, nowNs);
            return;
        }
        ServerConnection c = table.get(header.connectionId());
        if (c == null) {
            if (type == Wire.TYPE_DATA || type == Wire.TYPE_PING || type == Wire.TYPE_STREAM_OPEN
                || type == Wire.TYPE_STREAM_CLOSE) {
                if (replies.reset(from, header.connectionId())) {
                    counters.resetsSent++;
                }
            }
            counters.dropped++;
            return;
        }
        if (!from.equals(c.address)) {
            counters.dropped++; // no migration in v1
            return;
        }
        if (length > c.maxDatagram) {
            counters.dropped++; // over the negotiated maximum: dropped without a reply or any state change (wire-spec 2)
            return;
        }
        onConnectionDatagram(c, type, buf, index, length, nowNs);
        if (table.isOpen(c)) {
            table.refresh(c);
        }
    }

    private void onConnectionDatagram(ServerConnection c, int type, DirectBuffer buf, int index, int length,
                                      long nowNs) {
        switch (type) {
            case Wire.TYPE_DATA:
                c.lastReceivedNs = nowNs;
                dataPath.onData(c, buf, index, length, nowNs);
                break;
            case Wire.TYPE_PING:
                ping.wrap(buf, index, length);
                c.lastReceivedNs = nowNs;
                c.echoTimestamp = ping.timestamp();
                c.echoArrivalNs = nowNs;
                c.ackNow = true;
                c.repeatDurable = true;
                break;
            case Wire.TYPE_STREAM_OPEN:
            case Wire.TYPE_STREAM_CLOSE:
            case Wire.TYPE_CLOSE:
            case Wire.TYPE_LOSS_REPORT: {
                MessageLite body = ControlCodec.decodeBody(type, buf, index, length);
                if (body == null) {
                    counters.dropped++;
                    return;
                }
                c.lastReceivedNs = nowNs;
                control.onControl(c, body);
                break;
            }
            default:
                counters.dropped++; // server-to-agent types are not accepted here
        }
    }

    // ---------------------------------------------------------------- output and timers

    /** Writes the next datagram into {@code out} at index 0; its destination is {@link #lastDestination()}. */
    public int poll(MutableDirectBuffer out, long nowNs) {
        lastNowNs = nowNs;
        store.maintain(nowNs);
        if (dataPath.storeUnflushed || (storeRetryNs != Long.MAX_VALUE && nowNs - storeRetryNs >= 0)) {
            dataPath.storeUnflushed = false;
            storeRetryNs = store.flush() ? Long.MAX_VALUE : nowNs + cfg.appendRetryNs();
        }
        if (control.hasPendingOpens()) {
            control.openPending();
        }
        if (windows.scanDue(nowNs)) {
            windows.scanActive(table.all(), nowNs);
        }
        if (!replies.isEmpty()) {
            return sendReply(out);
        }
        java.util.List<ServerConnection> conns = table.all();
        if (durableAdvanced) {
            // Every connection gets an ACK with its durable news: O(connections), like those ACKs themselves.
            durableAdvanced = false;
            for (int k = 0; k < conns.size(); k++) {
                ServerConnection c = conns.get(k);
                c.durableDirty = true;
                c.closeCheck = c.pendingCloses > 0;
                table.refresh(c);
            }
        }
        expired.clear();
        timers.collectExpired(nowNs, expired);
        // The round robin over the table, as a scan of every connection would go, but stepping only to the
        // connections with something to do (watched or expired): for the others a visit does nothing.
        int n = conns.size();
        for (int k = nextVisit(0, n); k < n && k < conns.size(); k = nextVisit(k + 1, n)) {
            int idx = (roundRobin + k) % conns.size();
            ServerConnection c = conns.get(idx);
            if (nowNs - c.lastReceivedNs >= cfg.idleTimeoutNs()) {
                table.close(c, CloseCode.IDLE_TIMEOUT, "idle", false);
                k--;
                n--;
                continue;
            }
            if (c.stalled() && nowNs - c.stalledUntilNs >= 0) {
                dataPath.deliver(c, nowNs);
                if (!table.isOpen(c)) {
                    continue; // closed by a protocol violation
                }
            }
            if (!replies.isEmpty()) {
                roundRobin = idx;
                table.refresh(c);
                return sendReply(out);
            }
            if (c.limiterTimerNs != Long.MAX_VALUE && nowNs - c.limiterTimerNs >= 0) {
                // The limiter said it could allow a window by now: the ACK check below sends the unsolicited
                // ACK if it does; otherwise wait for its next estimate (at least 1 ms away, never a spin).
                c.limiterTimerNs = Long.MAX_VALUE;
                if (windows.window(c, nowNs) < c.maxPayload()) {
                    windows.armLimiterTimer(c, nowNs);
                }
            }
            if (acks.due(c, nowNs)) {
                // The ACK (with durable entries) goes before any STREAM_CLOSED it makes possible.
                roundRobin = idx + 1;
                lastDestination = c.address;
                int len = acks.write(c, out, nowNs);
                table.refresh(c);
                return len;
            }
            if (c.closeCheck) {
                c.closeCheck = false;
                control.answerCloses(c);
                if (!replies.isEmpty()) {
                    roundRobin = idx;
                    table.refresh(c);
                    return sendReply(out);
                }
            }
            table.refresh(c);
        }
        if (!replies.isEmpty()) {
            return sendReply(out);
        }
        return 0;
    }

    /**
     * The smallest step {@code k >= from} (below {@code n}) of this turn's round robin that lands on a connection
     * with something to do; {@code n} if none. With a reply queued, any connection's visit sends it, so the
     * very next step is taken, as the full scan did.
     */
    private int nextVisit(int from, int n) {
        int size = table.size();
        if (from >= n || size == 0) {
            return n;
        }
        if (!replies.isEmpty()) {
            return from;
        }
        int start = (roundRobin + from) % size;
        long[] bits = timers.watchedBits();
        int best = Integer.MAX_VALUE;
        int p = ServerTimers.nextSet(bits, start, size);
        if (p >= 0) {
            best = p - start;
        } else {
            p = ServerTimers.nextSet(bits, 0, start);
            if (p >= 0) {
                best = p + size - start;
            }
        }
        for (int i = 0; i < expired.size(); i++) {
            ServerConnection e = expired.get(i);
            if (e.position >= 0 && e.timerKey - lastNowNs <= 0) {
                best = Math.min(best, (e.position - start + size) % size);
            }
        }
        return best == Integer.MAX_VALUE ? n : Math.min(n, from + best);
    }

    private int sendReply(MutableDirectBuffer out) {
        int len = replies.send(out);
        lastDestination = replies.lastTo();
        return len;
    }

    /** When {@link #poll} should next be called; a value at or before now means now. */
    public long nextDeadline() {
        if (!replies.isEmpty() || durableAdvanced || dataPath.storeUnflushed || control.hasPendingOpens()) {
            return Long.MIN_VALUE;
        }
        // Only watched connections can be due now: the others have no flag set and an open window.
        java.util.List<ServerConnection> conns = table.all();
        long[] bits = timers.watchedBits();
        for (int p = ServerTimers.nextSet(bits, 0, conns.size()); p >= 0;
             p = ServerTimers.nextSet(bits, p + 1, conns.size())) {
            ServerConnection c = conns.get(p);
            timers.touched++;
            if (c.ackNow || c.durableDirty || c.closeCheck) {
                return Long.MIN_VALUE;
            }
            if (acks.reopens(c, lastNowNs)) {
                return Long.MIN_VALUE;
            }
        }
        return Math.min(storeRetryNs, timers.earliest());
    }
}
