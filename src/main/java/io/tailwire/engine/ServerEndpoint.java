package io.tailwire.engine;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.SplittableRandom;

import com.google.protobuf.MessageLite;

import io.tailwire.config.Configuration;
import io.tailwire.proto.Close;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.Hello;
import io.tailwire.proto.LossReport;
import io.tailwire.proto.Retry;
import io.tailwire.proto.StreamClose;
import io.tailwire.proto.StreamClosed;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamReply;
import io.tailwire.proto.StreamStatus;
import io.tailwire.proto.Welcome;
import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.DataFlyweight;
import io.tailwire.wire.HeaderFlyweight;
import io.tailwire.wire.PingFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Server side of the protocol for all connections of one socket (wire-spec.md sections 2-8), sans-IO.
 * DATA and ACK handling reuse per-connection slot buffers and flyweights; control messages, RETRY,
 * RESET and CLOSE replies allocate (they are rare or answer hostile traffic, and are bounded by a queue).
 * Not thread-safe: one thread drives it.
 */
public final class ServerEndpoint {
    /** Delivered slot buffers kept for reuse per connection; more are left to the collector. */
    static final int SPARE_SLOTS = 8;
    /**
     * Heap a buffered packet costs beyond its datagram bytes: the UnsafeBuffer object and the array header
     * (about 80 bytes on a 64-bit JVM, rounded up). Charged so that many tiny packets cannot hide their cost.
     */
    static final int SLOT_OVERHEAD_BYTES = 96;

    /** A snapshot of counters. */
    public record Stats(long datagramsReceived, long datagramsDropped, long dataPackets, long duplicates,
                        long acksSent, long retriesSent, long welcomesSent, long resetsSent, long busyRejections,
                        long agentIdRefusals, long protocolViolations, long appendStalls, int connections) {
    }

    private static final int RING = Wire.SACK_RANGE;
    private static final int MASK = RING - 1;
    private static final int MAX_QUEUED_REPLIES = 1024;
    private static final int RECENTLY_CLOSED = 256;
    /** A connection counts as active for the memory share while it sent DATA within this time. */
    static final long ACTIVE_NS = 1_000_000_000L;
    private static final long ACTIVE_SCAN_NS = 100_000_000L;
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
    /**
     * The part of the server-wide stream limit (1/4) kept for agents below their fair share: an agent above it
     * gets QUOTA_EXCEEDED once no more than this part is free.
     */
    static final int STREAM_RESERVE_DIVISOR = 4;
    /**
     * Payload a connection may send into its full receive buffer between two of our ACKs, in connection
     * buffers, before it is closed with EXCEEDED_ALLOWANCE: an honest sender's bytes in flight stay within a
     * window (at most one buffer), and twice that covers late originals of packets it declared lost.
     */
    static final int OVERFLOW_ALLOWANCE_BUFFERS = 2;

    private record Outgoing(InetSocketAddress to, byte[] bytes) {
    }

    /** Per source IP address: its connections, and a token bucket of handshakes (one second's worth deep). */
    private static final class SourceState {
        int connections;
        double handshakes;
        long refilledNs;

        SourceState(long nowNs, int perSecond) {
            this.refilledNs = nowNs;
            this.handshakes = perSecond;
        }

        boolean takeHandshake(long nowNs, int perSecond) {
            handshakes = Math.min(perSecond, handshakes + (nowNs - refilledNs) * (perSecond / 1e9));
            refilledNs = nowNs;
            if (handshakes < 1) {
                return false;
            }
            handshakes--;
            return true;
        }
    }

    /** A full table closes a connection quiet (no DATA) for this long to admit a newcomer: 10 s. */
    static final long QUIET_EVICT_NS = 10_000_000_000L;

    private static final class ServerStream {
        final int id;
        final String path;
        final long generation;
        final StoredStream stored;
        final StreamReply reply;
        /** The request it answers: only an identical copy is a repeat (wire-spec.md 6.1). */
        final StreamOpen open;
        long reportedDurable;
        long closeFinal = -1;
        long lossReportedTo;
        /** Lowest from_offset reported lost: a loss ends the generation there (wire-spec.md 6.5). */
        long lossFrom = Long.MAX_VALUE;

        ServerStream(int id, String path, long generation, StoredStream stored, StreamReply reply, StreamOpen open) {
            this.id = id;
            this.path = path;
            this.generation = generation;
            this.stored = stored;
            this.reply = reply;
            this.open = open;
        }
    }

    private final class Conn {
        final long id;
        final String agentId;
        final InetSocketAddress address;
        final long clientNonce;
        /** Hello.instance_id: who holds the agent id; another instance is refused while this lives. */
        final com.google.protobuf.ByteString instanceId;
        /** The refused claimant last logged, so a conflict is logged once per episode, not per HELLO. */
        InetSocketAddress conflictLogged;
        final byte[] welcome;
        final int maxDatagram;
        long lastReceivedNs;

        final SackBitmap tracker = new SackBitmap();
        final UnsafeBuffer[] slots = new UnsafeBuffer[RING];
        final int[] slotLength = new int[RING];
        final ArrayDeque<UnsafeBuffer> spareSlots = new ArrayDeque<>();
        long deliveredPn;
        long bufferedBytes;
        /** Heap the reorder ring really holds: each buffered slot's capacity plus SLOT_OVERHEAD_BYTES. */
        long heldBytes;
        /** Payload sent into a full buffer since our last ACK (EXCEEDED_ALLOWANCE, wire-spec.md 7.1). */
        long overflowSinceAck;
        long undurableBytes;

        final Int2ObjectHashMap<ServerStream> streams = new Int2ObjectHashMap<>();
        final HashMap<Integer, Long> recentlyClosed = new HashMap<>();
        /** Refused STREAM_OPENs' replies, the last RECENTLY_CLOSED of them: not streams, not counted. */
        final HashMap<Integer, ServerStream> refused = new HashMap<>();
        final ArrayDeque<Integer> refusedOrder = new ArrayDeque<>();
        /** STREAM_OPENs waiting for this turn's batch of store opens, by stream id. */
        final Int2ObjectHashMap<StreamOpen> openingIds = new Int2ObjectHashMap<>();
        /** A PING arrived: its ACK repeats every durable offset (wire-spec.md 5). */
        boolean repeatDurable;
        /** Where (in stream-table order) the next PING's repeated entries start, when 64 did not hold them all. */
        int repeatFrom;
        final ArrayDeque<Integer> recentlyClosedOrder = new ArrayDeque<>();
        int pendingCloses;

        int unackedData;
        boolean ackNow;
        long ackDeadlineNs = Long.MAX_VALUE;
        long echoTimestamp;
        long echoArrivalNs;
        long lastAdvertisedWindow;
        boolean durableDirty;
        boolean closeCheck;
        long stalledUntilNs = Long.MAX_VALUE;
        final long connectedAtNs;
        long lastDataNs = Long.MIN_VALUE;
        long bytesReceived;
        /** When the limiter may allow a window again after we advertised 0 (wire-spec.md 7.2). */
        long limiterTimerNs = Long.MAX_VALUE;

        Conn(long id, String agentId, InetSocketAddress address, long clientNonce,
             com.google.protobuf.ByteString instanceId, byte[] welcome, int maxDatagram, long nowNs) {
            this.id = id;
            this.agentId = agentId;
            this.address = address;
            this.clientNonce = clientNonce;
            this.instanceId = instanceId;
            this.welcome = welcome;
            this.maxDatagram = maxDatagram;
            this.lastReceivedNs = nowNs;
            this.connectedAtNs = nowNs;
            this.lastAdvertisedWindow = cfg.initialWindow();
        }

        long maxPayload() {
            return maxDatagram - Wire.DATA_HEADER_LENGTH;
        }

        /** What the buffers allow: this connection's share of memory minus what it already occupies. */
        long bufferWindow() {
            if (stalledUntilNs != Long.MAX_VALUE) {
                return 0; // storage refuses our bytes (disk full, I/O error): take no more until it recovers
            }
            return Math.max(0, share() - bufferedBytes - undurableBytes);
        }

        long window(long nowNs) {
            long w = Math.min(bufferWindow(), socketShare(maxPayload()));
            return w == 0 ? 0 : Math.max(0, limiter.window(agentId, w, maxPayload(), nowNs));
        }
    }

    /**
     * Buffer per connection: its configured buffer, but no more than an equal part of the global memory
     * budget among the connections that sent DATA recently (wire-spec.md 7.1).
     */
    private long share() {
        return Math.min(cfg.connectionBudgetBytes(), memoryBudgetBytes / Math.max(1, activeConnections));
    }

    private final ServerEndpointConfig cfg;
    private final RetryTokens tokens;
    /** Connection ids and server_instance: a secure generator in the server, a seeded one in tests and the simulator. */
    private final java.util.random.RandomGenerator random;
    private final long serverInstance;
    private final StreamStore store;
    private final ServerEvents events;

    private final Long2ObjectHashMap<Conn> byId = new Long2ObjectHashMap<>();
    private final HashMap<String, Conn> byAgent = new HashMap<>();
    private final ArrayList<Conn> conns = new ArrayList<>();
    private int roundRobin;
    private final ArrayDeque<Outgoing> replies = new ArrayDeque<>();
    private InetSocketAddress lastDestination;
    private boolean durableAdvanced;
    private WindowLimiter limiter = WindowLimiter.NONE;
    private long memoryBudgetBytes = Long.MAX_VALUE;
    private long socketBudgetBytes = Long.MAX_VALUE;
    /** Active connections plus those connected in the last second: a herd's newcomers send before they count as active. */
    private int socketSharers = 1;
    private int activeConnections = 1;
    private long nextActiveScanNs;
    private boolean rescanActive = true;
    private long lastNowNs;
    /** Appends since the store's last flush; or when a failed flush is retried. */
    private boolean storeUnflushed;
    /** STREAM_OPENs received this turn; opened together at the start of the next poll (openAll). */
    private final ArrayList<Conn> openConns = new ArrayList<>();
    private final ArrayList<StreamStore.OpenRequest> openRequests = new ArrayList<>();
    private long storeRetryNs = Long.MAX_VALUE;
    private long bytesReceived;
    private long lossReportedBytes;

    private final HeaderFlyweight header = new HeaderFlyweight();
    private final DataFlyweight data = new DataFlyweight();
    private final PingFlyweight ping = new PingFlyweight();
    private final AckFlyweight ack = new AckFlyweight();
    private final DataFlyweight stored = new DataFlyweight();
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);

    private long datagramsReceived;
    private long dropped;
    private long dataPackets;
    private long duplicates;
    private long acksSent;
    private long retriesSent;
    private long welcomesSent;
    private long resetsSent;
    private long busyRejections;
    private long protocolViolations;
    private long appendStalls;
    private long agentIdRefusals;
    private long exceededAllowance;
    private long evictions;
    private final HashMap<java.net.InetAddress, SourceState> sources = new HashMap<>();
    /** Volatile: the command line sets them from the main thread while the engine runs. */
    private volatile int connectionsPerAddress = Configuration.MAX_CONNECTIONS_PER_ADDRESS;
    private volatile int handshakesPerSecond = Configuration.HANDSHAKES_PER_SECOND_PER_ADDRESS;
    private long quotaRefusals;
    /** Streams open on all connections (refusals hold none). */
    private int streamsHeld;
    /** The store's server-wide stream limit, for the per-agent quota; unlimited until set. */
    private int serverStreamLimit = Integer.MAX_VALUE;
    /** Heap held by all reorder rings together, bounded by the memory budget (issue 13 item 1). */
    private long heldTotal;

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
        this.tokens = new RetryTokens(secret, cfg.tokenValidityNs());
        this.random = ids;
        this.serverInstance = random.nextLong();
        this.store = store;
        this.events = events == null ? ServerEvents.NONE : events;
    }

    /** Applies a rate limit through the advertised windows (default: none). Engine thread only. */
    public void setWindowLimiter(WindowLimiter limiter) {
        this.limiter = limiter == null ? WindowLimiter.NONE : limiter;
    }

    /**
     * One memory budget for all connections' receive buffers (reorder buffer plus written-but-not-durable
     * bytes): each active connection's window comes from at most budget / active connections.
     */
    /**
     * The receive socket's buffer in payload bytes (wire-spec.md 7.1). All active connections' windows
     * together stay within it (each gets at least one datagram), so a herd of agents cannot overflow the
     * socket, where UDP would drop datagrams silently: 1000 agents starting at once lost 33,000 datagrams
     * there and some stalled for seconds in retransmission back-off.
     */
    public void setSocketBudget(long bytes) {
        this.socketBudgetBytes = Math.max(1, bytes);
    }

    private long socketShare(long maxPayload) {
        if (socketBudgetBytes == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        return Math.max(maxPayload, socketBudgetBytes / socketSharers);
    }

    public void setMemoryBudget(long bytes) {
        if (bytes < cfg.maxDatagramSize()) {
            throw new IllegalArgumentException("memory budget below one datagram: " + bytes);
        }
        this.memoryBudgetBytes = bytes;
    }

    /** Connections counted as active for the memory share (sent DATA in the last second). */
    public int activeConnections() {
        return activeConnections;
    }

    /** New payload bytes received (duplicates not counted). */
    public long bytesReceived() {
        return bytesReceived;
    }

    /** Bytes agents reported lost at the source with LOSS_REPORT. */
    public long lossReportedBytes() {
        return lossReportedBytes;
    }

    /** What the server shows about one connection; see {@link #connections()}. */
    public record ConnectionInfo(String agentId, InetSocketAddress address, long connectedAtNs, long lastReceivedNs,
                                 long window, long bytesReceived, long bufferedBytes, long heldBytes, boolean stalled,
                                 java.util.List<StreamInfo> streams) {
    }

    /** One open stream of a connection. */
    public record StreamInfo(String path, long generation, long held, long durable) {
    }

    /** A snapshot of every connection, for status pages. Allocates: call it a few times a second at most. */
    public java.util.List<ConnectionInfo> connections() {
        ArrayList<ConnectionInfo> list = new ArrayList<>(conns.size());
        for (Conn c : conns) {
            ArrayList<StreamInfo> ss = new ArrayList<>(c.streams.size());
            for (ServerStream s : c.streams.values()) {
                if (s.stored != null) {
                    long held = s.stored.held();
                    ss.add(new StreamInfo(s.path, s.generation, held, Math.min(held, s.stored.durable())));
                }
            }
            list.add(new ConnectionInfo(c.agentId, c.address, c.connectedAtNs, c.lastReceivedNs,
                c.lastAdvertisedWindow, c.bytesReceived, c.bufferedBytes, c.heldBytes, c.stalledUntilNs != Long.MAX_VALUE,
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
        for (Conn c : conns) {
            for (UnsafeBuffer b : c.slots) {
                if (b != null) {
                    sum += b.capacity() + SLOT_OVERHEAD_BYTES;
                }
            }
        }
        return sum;
    }

    public int connectionCount() {
        return conns.size();
    }

    /**
     * The store's server-wide limit on open streams (OutputStore.Config.maxStreams): each agent's quota is a
     * share of it (wire-spec 6.1). Engine thread, before traffic.
     */
    public void setServerStreamLimit(int streams) {
        this.serverStreamLimit = Math.max(1, streams);
    }

    /** Limits per source IP address: live connections, and new connections per second (wire-spec 3). Any thread. */
    public void setSourceLimits(int connections, int handshakesPerSecond) {
        this.connectionsPerAddress = Math.max(1, connections);
        this.handshakesPerSecond = Math.max(1, handshakesPerSecond);
    }

    /** Quiet connections closed to admit a newcomer to a full table, for metrics. */
    public long evictions() {
        return evictions;
    }

    /** STREAM_OPENs refused with QUOTA_EXCEEDED, for metrics. */
    public long quotaRefusals() {
        return quotaRefusals;
    }

    /** Connections closed with EXCEEDED_ALLOWANCE (wire-spec.md 7.1), for metrics. */
    public long exceededAllowance() {
        return exceededAllowance;
    }

    /** HELLOs refused with AGENT_ID_IN_USE (wire-spec.md 3), for metrics. */
    public long agentIdRefusals() {
        return agentIdRefusals;
    }

    public long serverInstance() {
        return serverInstance;
    }

    public InetSocketAddress lastDestination() {
        return lastDestination;
    }

    public Stats stats() {
        return new Stats(datagramsReceived, dropped, dataPackets, duplicates, acksSent, retriesSent, welcomesSent,
            resetsSent, busyRejections, agentIdRefusals, protocolViolations, appendStalls, conns.size());
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
        for (Conn c : new ArrayList<>(conns)) {
            closeConnection(c, code, reason, true);
        }
    }

    // ---------------------------------------------------------------- input

    public void onDatagram(InetSocketAddress from, DirectBuffer buf, int index, int length, long nowNs) {
        datagramsReceived++;
        lastNowNs = nowNs;
        header.wrap(buf, index, length);
        int rc = header.validate(Math.max(cfg.maxDatagramSize(), Wire.MIN_HELLO_LENGTH));
        if (rc == Wire.ERR_VERSION) {
            // Checksum passed, so this is a real datagram of another version: tell a HELLO what we speak.
            if (header.type() == Wire.TYPE_HELLO && length >= Wire.MIN_HELLO_LENGTH) {
                queueControl(from, length, 0, Close.newBuilder().setCode(CloseCode.UNSUPPORTED_VERSION)
                    .setReason("version 1 only").addSupportedVersions(Wire.VERSION).build());
            }
            dropped++;
            return;
        }
        if (rc != Wire.OK) {
            dropped++;
            return;
        }
        int type = header.type();
        if (type == Wire.TYPE_HELLO) {
            onHello(from, buf, index, length, nowNs);
            return;
        }
        Conn c = byId.get(header.connectionId());
        if (c == null) {
            if (type == Wire.TYPE_DATA || type == Wire.TYPE_PING || type == Wire.TYPE_STREAM_OPEN
                || type == Wire.TYPE_STREAM_CLOSE) {
                if (replies.size() < MAX_QUEUED_REPLIES) {
                    byte[] reset = new byte[Wire.RESET_LENGTH];
                    HeaderFlyweight.encodeReset(new UnsafeBuffer(reset), 0, header.connectionId());
                    replies.add(new Outgoing(from, reset));
                    resetsSent++;
                }
            }
            dropped++;
            return;
        }
        if (!from.equals(c.address)) {
            dropped++; // no migration in v1
            return;
        }
        if (length > c.maxDatagram) {
            dropped++; // over the negotiated maximum: dropped without a reply or any state change (wire-spec 2)
            return;
        }
        switch (type) {
            case Wire.TYPE_DATA:
                c.lastReceivedNs = nowNs;
                onData(c, buf, index, length, nowNs);
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
                    dropped++;
                    return;
                }
                c.lastReceivedNs = nowNs;
                onControl(c, body, nowNs);
                break;
            }
            default:
                dropped++; // server-to-agent types are not accepted here
        }
    }

    private void onHello(InetSocketAddress from, DirectBuffer buf, int index, int length, long nowNs) {
        if (length < Wire.MIN_HELLO_LENGTH) {
            dropped++; // anti-amplification: a short HELLO gets nothing
            return;
        }
        MessageLite body = ControlCodec.decodeBody(Wire.TYPE_HELLO, buf, index, length);
        if (!(body instanceof Hello hello)) {
            dropped++;
            return;
        }
        // The checks go in the order of wire-spec.md 3: the HELLO's own fields (no state needed, so before
        // address validation), then the token, then the agent id's holder and the connection limit.
        String agentId = hello.getAgentId();
        if (!Wire.isValidAgentId(agentId)) {
            queueControl(from, length, 0, Close.newBuilder().setCode(CloseCode.BAD_AGENT_ID)
                .setReason("agent_id must match " + Wire.AGENT_ID_RULE).build());
            return;
        }
        if (hello.getAuthKeyId() != 0) {
            // Authentication is reserved (wire-spec.md 9): accepting the HELLO would silently run unauthenticated.
            queueControl(from, length, 0, Close.newBuilder().setCode(CloseCode.PROTOCOL_VIOLATION)
                .setReason("authentication is not supported by this server (auth_key_id must be 0)").build());
            return;
        }
        int offered = hello.getMaxDatagramSize();
        if (offered != 0 && (offered < Wire.MIN_MAX_DATAGRAM || offered > Wire.MAX_MAX_DATAGRAM)) {
            queueControl(from, length, 0, Close.newBuilder().setCode(CloseCode.PROTOCOL_VIOLATION)
                .setReason("max_datagram_size must be 0 or " + Wire.MIN_MAX_DATAGRAM + ".." + Wire.MAX_MAX_DATAGRAM)
                .build());
            return;
        }
        if (!tokens.valid(hello.getToken().toByteArray(), from, agentId, nowNs)) {
            retriesSent++;
            queueControl(from, length, 0, Retry.newBuilder().setClientNonce(hello.getClientNonce())
                .setToken(com.google.protobuf.ByteString.copyFrom(tokens.issue(from, agentId, nowNs))).build());
            return;
        }
        Conn existing = byAgent.get(agentId);
        if (existing != null && nowNs - existing.lastReceivedNs >= cfg.idleTimeoutNs()) {
            closeConnection(existing, CloseCode.IDLE_TIMEOUT, "idle", false); // not live: not a holder
            existing = null;
        }
        if (existing != null && existing.clientNonce == hello.getClientNonce() && existing.address.equals(from)) {
            queueRaw(from, existing.welcome); // our WELCOME was lost
            welcomesSent++;
            return;
        }
        if (existing != null && !existing.instanceId.equals(hello.getInstanceId())) {
            // Another agent with the same id (wire-spec.md 3): letting it replace the holder would interleave two
            // sources in one copy. Only the same instance (the same agent restarted) may take over.
            agentIdRefusals++;
            if (!from.equals(existing.conflictLogged)) {
                existing.conflictLogged = from;
                events.onAgentIdInUse(agentId, existing.address, from);
            }
            queueControl(from, length, 0, Close.newBuilder().setCode(CloseCode.AGENT_ID_IN_USE)
                .setReason("agent id '" + agentId + "' is in use by another agent; give each agent a unique id")
                .build());
            return;
        }
        if (existing != null) {
            closeConnection(existing, CloseCode.REPLACED, "replaced by a newer connection", true);
        }
        // Per source address (validated by the token, so not spoofable): one host cannot fill the table
        // (issue 13 item 2: one socket made 10,000 connections in 4.3 s).
        java.net.InetAddress source = from.getAddress();
        SourceState src = sources.get(source);
        if (src != null && src.connections >= connectionsPerAddress) {
            busy(from, length, "too many connections from " + source.getHostAddress());
            return;
        }
        if (src == null) {
            if (sources.size() >= cfg.maxConnections() * 2) {
                forgetQuietSources(nowNs);
            }
            src = new SourceState(nowNs, handshakesPerSecond);
            sources.put(source, src);
        }
        if (!src.takeHandshake(nowNs, handshakesPerSecond)) {
            busy(from, length, "too many new connections per second from " + source.getHostAddress());
            return;
        }
        if (conns.size() >= cfg.maxConnections() && !evictQuiet(nowNs)) {
            busy(from, length, "connection limit");
            return;
        }
        long id;
        do {
            id = random.nextLong();
        } while (id == 0 || byId.containsKey(id));
        scanActive(nowNs);
        // 0: the agent did not say, so it gets the protocol default (wire-spec.md 8); both sides are >= 1200.
        int agreed = Math.min(cfg.maxDatagramSize(), offered == 0 ? Wire.DEFAULT_MAX_DATAGRAM : offered);
        Welcome w = Welcome.newBuilder().setClientNonce(hello.getClientNonce()).setConnectionId(id)
            .setServerInstance(serverInstance).setMaxDatagramSize(agreed).setInitialWindow(initialWindow(agentId, agreed, nowNs))
            .setIdleTimeoutMs((int) (cfg.idleTimeoutNs() / 1_000_000L))
            .setKeepaliveMs((int) (cfg.keepaliveNs() / 1_000_000L)).build();
        int len = ControlCodec.encode(scratch, 0, length, id, w);
        if (len <= 0) {
            dropped++;
            return;
        }
        byte[] welcome = new byte[len];
        scratch.getBytes(0, welcome);
        Conn c = new Conn(id, agentId, from, hello.getClientNonce(), hello.getInstanceId(), welcome, agreed, nowNs);
        c.lastAdvertisedWindow = w.getInitialWindow();
        if (c.lastAdvertisedWindow < c.maxPayload()) {
            armLimiterTimer(c, nowNs); // a closed initial window reopens with an unsolicited ACK
        }
        byId.put(id, c);
        byAgent.put(agentId, c);
        conns.add(c);
        src.connections++;
        rescanActive = true; // a newcomer shares the socket budget at once
        queueRaw(from, welcome);
        welcomesSent++;
        events.onConnected(agentId, from, id);
    }

    private void busy(InetSocketAddress from, int length, String reason) {
        busyRejections++;
        queueControl(from, length, 0, Close.newBuilder().setCode(CloseCode.BUSY).setReason(reason)
            .setRetryAfterMs(cfg.busyRetryAfterMs()).build());
    }

    /**
     * The table is full: makes room by closing (BUSY) the connection that has been without DATA the longest,
     * if that is at least {@link #QUIET_EVICT_NS}; agents sending data are never pushed out by newcomers.
     */
    private boolean evictQuiet(long nowNs) {
        Conn victim = null;
        for (Conn c : conns) {
            long quietSince = c.lastDataNs == Long.MIN_VALUE ? c.connectedAtNs : c.lastDataNs;
            if (nowNs - quietSince >= QUIET_EVICT_NS && (victim == null
                || quietSince - (victim.lastDataNs == Long.MIN_VALUE ? victim.connectedAtNs : victim.lastDataNs) < 0)) {
                victim = c;
            }
        }
        if (victim == null) {
            return false;
        }
        evictions++;
        closeConnection(victim, CloseCode.BUSY, "idle connection closed to admit another; reconnect when there"
            + " is data", true);
        return true;
    }

    /** Drops the handshake state of addresses with no connection whose bucket has refilled: they cost nothing. */
    private void forgetQuietSources(long nowNs) {
        sources.values().removeIf(st -> st.connections == 0 && nowNs - st.refilledNs >= 1_000_000_000L);
    }

    /** Counts the connections that sent DATA within {@link #ACTIVE_NS}: they share the memory budget. */
    private void scanActive(long nowNs) {
        int n = 0;
        int starting = 0;
        for (int k = 0; k < conns.size(); k++) {
            Conn c = conns.get(k);
            long t = c.lastDataNs;
            if (t != Long.MIN_VALUE && nowNs - t < ACTIVE_NS) {
                n++;
            } else if (nowNs - c.connectedAtNs < ACTIVE_NS) {
                starting++;
            }
        }
        activeConnections = Math.max(1, n);
        socketSharers = Math.max(1, n + starting);
        nextActiveScanNs = nowNs + ACTIVE_SCAN_NS;
        rescanActive = false;
    }

    /** WELCOME's initial window: the configured one, within a newcomer's memory share and the limiter. */
    private int initialWindow(String agentId, int agreedDatagram, long nowNs) {
        long shareForNew = Math.min(cfg.connectionBudgetBytes(), memoryBudgetBytes / (activeConnections + 1L));
        long w = Math.min(cfg.initialWindow(), shareForNew);
        if (socketBudgetBytes != Long.MAX_VALUE) {
            // Shared with the connections that joined in the last second too: the newcomers of a herd all
            // start at once, before any of them counts as active.
            long mps = agreedDatagram - Wire.DATA_HEADER_LENGTH;
            w = Math.min(w, Math.max(mps, socketBudgetBytes / (socketSharers + 1L)));
        }
        w = limiter.window(agentId, w, agreedDatagram - Wire.DATA_HEADER_LENGTH, nowNs);
        if (w < agreedDatagram - Wire.DATA_HEADER_LENGTH) {
            w = 0; // less than one payload is no window (wire-spec.md 7.1)
        }
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, w));
    }

    private void onData(Conn c, DirectBuffer buf, int index, int length, long nowNs) {
        data.wrap(buf, index, length);
        dataPackets++;
        long pn = data.packetNumber();
        int payload = data.payloadLength();
        long cumBefore = c.tracker.cumulative();
        if (pn < cumBefore || c.tracker.contains(pn)) {
            duplicates++;
            c.ackNow = true; // our ACK was probably lost
            return;
        }
        // Echo only new packets: a needless retransmission arriving after its first copy must not hide that
        // the first copy got here (the sender undoes its window reduction on that evidence, wire-spec 7.3).
        c.echoTimestamp = data.timestamp();
        c.echoArrivalNs = nowNs;
        // A packet delivered at once borrows a reusable max-size slot; one that must wait in the reorder buffer
        // is held in a buffer of its own size, so it costs what it carries: 1023 one-byte packets behind a
        // withheld packet 0 pinned 67 MB in max-size slots (issue 13 item 1).
        boolean immediate = pn == cumBefore && c.deliveredPn == cumBefore && c.stalledUntilNs == Long.MAX_VALUE;
        int capacity = immediate || length == c.maxDatagram ? c.maxDatagram : length;
        long charge = capacity + SLOT_OVERHEAD_BYTES;
        boolean overBuffer = c.bufferedBytes + payload > cfg.connectionBudgetBytes()
            || heldTotal + charge > memoryBudgetBytes;
        // The packet at the cumulative point is taken even over budget: a buffer full of later packets waits
        // for exactly it, and refusing it would deadlock (wire-spec 7.1). It costs at most one extra packet.
        if (pn >= cumBefore + RING || pn >= c.deliveredPn + RING || (!immediate && overBuffer)) {
            dropped++;
            c.ackNow = true; // beyond the SACK range or our buffer: tell the sender where we are
            if (overBuffer && pn < cumBefore + RING) {
                c.overflowSinceAck += payload;
                if (c.overflowSinceAck > OVERFLOW_ALLOWANCE_BUFFERS * cfg.connectionBudgetBytes()) {
                    // An honest sender keeps within the windows we advertised, so it cannot get near this.
                    exceededAllowance++;
                    closeConnection(c, CloseCode.EXCEEDED_ALLOWANCE, "sent " + c.overflowSinceAck
                        + " bytes into a full receive buffer between two ACKs", true);
                }
            }
            return;
        }
        ServerStream s = c.streams.get(data.streamId());
        if (s == null || s.stored == null) {
            protocolViolation(c, "DATA for stream " + data.streamId() + " that is not open");
            return;
        }
        int i = (int) (pn & MASK);
        UnsafeBuffer slot = capacity == c.maxDatagram ? c.spareSlots.pollFirst() : null;
        if (slot == null) {
            slot = new UnsafeBuffer(new byte[capacity]);
        }
        c.slots[i] = slot;
        c.heldBytes += charge;
        heldTotal += charge;
        slot.putBytes(0, buf, index, length);
        c.slotLength[i] = length;
        c.bufferedBytes += payload;
        c.bytesReceived += payload;
        bytesReceived += payload;
        if (c.lastDataNs == Long.MIN_VALUE || nowNs - c.lastDataNs >= ACTIVE_NS) {
            rescanActive = true; // a connection became active: its share counts at once
        }
        c.lastDataNs = nowNs;
        limiter.consume(c.agentId, payload, nowNs);
        c.tracker.mark(pn);
        if (pn != cumBefore) {
            c.ackNow = true; // a gap: tell the sender at once
        }
        if (++c.unackedData >= 2) {
            c.ackNow = true;
        } else if (c.ackDeadlineNs == Long.MAX_VALUE) {
            c.ackDeadlineNs = nowNs + cfg.maxAckDelayNs();
        }
        deliver(c, nowNs);
    }

    /** Hands stored packets to their streams in packet-number order, up to the cumulative point. */
    private void deliver(Conn c, long nowNs) {
        while (c.deliveredPn < c.tracker.cumulative()) {
            int i = (int) (c.deliveredPn & MASK);
            stored.wrap(c.slots[i], 0, c.slotLength[i]);
            int payload = stored.payloadLength();
            ServerStream s = c.streams.get(stored.streamId());
            if (s != null && s.stored != null) {
                long offset = stored.streamOffset();
                long held = s.stored.held();
                if (offset > held) {
                    protocolViolation(c, "gap in stream " + s.id + ": offset " + offset + " beyond " + held);
                    return;
                }
                long end = s.stored.finalLength() >= 0 ? s.stored.finalLength() : s.closeFinal;
                if (end >= 0 && offset + payload > end) {
                    // Never appended and never a storage stall: the agent broke the stream's end (issue 11 item 5).
                    protocolViolation(c, "DATA for stream " + s.id + " at " + offset + ".." + (offset + payload)
                        + " past its final length " + end);
                    return;
                }
                if (offset + payload > held) {
                    if (!s.stored.append(offset, c.slots[i], Wire.DATA_HEADER_LENGTH, payload)) {
                        appendStalls++;
                        if (c.stalledUntilNs == Long.MAX_VALUE) {
                            c.ackNow = true; // announce the closed window at once
                            events.onStorageStalled(c.agentId, s.path, true);
                        }
                        c.stalledUntilNs = nowNs + cfg.appendRetryNs(); // keep it and retry later
                        return;
                    }
                    c.undurableBytes += Math.max(0, s.stored.held() - held);
                    storeUnflushed = true;
                }
            }
            c.bufferedBytes -= payload;
            c.deliveredPn++;
            long charge = c.slots[i].capacity() + SLOT_OVERHEAD_BYTES;
            c.heldBytes -= charge;
            heldTotal -= charge;
            // A delivered slot goes back to a small spare list: in-order traffic reuses a handful of buffers,
            // and an idle connection holds a few KiB instead of the whole 1024-slot ring.
            if (c.spareSlots.size() < SPARE_SLOTS && c.slots[i].capacity() == c.maxDatagram) {
                c.spareSlots.addFirst(c.slots[i]);
            }
            c.slots[i] = null;
        }
        if (c.stalledUntilNs != Long.MAX_VALUE) {
            c.stalledUntilNs = Long.MAX_VALUE;
            events.onStorageStalled(c.agentId, null, false);
        }
        if (c.pendingCloses > 0) {
            answerCloses(c);
        }
    }

    private void onControl(Conn c, MessageLite body, long nowNs) {
        if (body instanceof StreamOpen open) {
            onStreamOpen(c, open);
        } else if (body instanceof StreamClose close) {
            ServerStream s = c.streams.get(close.getStreamId());
            if (s != null && s.stored != null) {
                long fin = close.getFinalLength();
                String bad = fin < s.stored.held() ? "below the " + s.stored.held() + " bytes it holds"
                    : s.closeFinal >= 0 && fin != s.closeFinal ? "after closing it at " + s.closeFinal
                    : s.stored.finalLength() >= 0 && fin != s.stored.finalLength()
                        ? "but it ended at " + s.stored.finalLength()
                    : fin > s.lossFrom ? "past its reported loss from " + s.lossFrom : null;
                if (bad != null) {
                    protocolViolation(c, "STREAM_CLOSE of stream " + s.id + " at " + fin + " " + bad);
                    return;
                }
                if (s.closeFinal < 0) {
                    c.pendingCloses++;
                }
                s.closeFinal = fin;
                answerCloses(c);
            } else {
                Long durable = c.recentlyClosed.get(close.getStreamId());
                if (durable != null) {
                    queueControl(c.address, Integer.MAX_VALUE, c.id, StreamClosed.newBuilder()
                        .setStreamId(close.getStreamId()).setDurableLength(durable).build());
                }
            }
        } else if (body instanceof Close close) {
            closeConnection(c, close.getCode(), close.getReason(), false);
        } else if (body instanceof LossReport loss) {
            ServerStream s = c.streams.get(loss.getStreamId());
            if (s == null && c.recentlyClosed.containsKey(loss.getStreamId())) {
                return; // a repeat arriving after the close: the agent sends reports before closing the stream
            }
            long from = loss.getFromOffset();
            // Unsigned on the wire: a to_offset of 2^63 or more reads negative here and is capped like any other.
            long to = loss.getToOffset() < 0 ? MAX_LOSS_OFFSET : Math.min(loss.getToOffset(), MAX_LOSS_OFFSET);
            if (s != null && s.stored != null) {
                // Bytes the server holds were not lost, and no file reaches MAX_LOSS_OFFSET: a forged report of
                // 0..2^62 put 4.6e18 into a loss metric (issue 13 item 9; wire-spec 6.5). The agent sends each
                // report three times: count (and log) only bytes not reported before.
                from = Math.max(from < 0 ? MAX_LOSS_OFFSET : from, Math.max(s.lossReportedTo, s.stored.held()));
                if (to <= from) {
                    return;
                }
                lossReportedBytes += to - from;
                s.lossReportedTo = to;
                s.lossFrom = Math.min(s.lossFrom, loss.getFromOffset());
            }
            events.onLossReport(c.agentId, s == null ? null : s.path, s == null ? 0 : s.generation,
                from, to, loss.getReason());
        }
    }

    private void onStreamOpen(Conn c, StreamOpen open) {
        int sid = open.getStreamId();
        if (sid == 0) {
            dropped++;
            return;
        }
        if (Long.compareUnsigned(open.getGeneration(), MAX_GENERATION) > 0) {
            // No honest agent gets there, and the next generation after 2^64-1 wrapped to 0: the victim's
            // whole file was shipped again (issue 13 item 8; wire-spec 6.1).
            protocolViolation(c, "STREAM_OPEN of generation " + Long.toUnsignedString(open.getGeneration())
                + " beyond " + MAX_GENERATION);
            return;
        }
        ServerStream s = c.streams.get(sid);
        if (s == null) {
            s = c.refused.get(sid);
        }
        if (s != null) {
            if (!s.open.equals(open)) {
                // Not a repeat (wire-spec.md 6.1): answering with the old reply would bind another file's bytes
                // to this stream's copy.
                protocolViolation(c, "STREAM_OPEN repeats stream id " + sid + " for another request");
                return;
            }
            queueControl(c.address, Integer.MAX_VALUE, c.id, s.reply); // idempotent: same answer again
            return;
        }
        if (c.recentlyClosed.containsKey(sid)) {
            dropped++; // a late copy of the open of a stream already closed here: it must not reopen it
            return;
        }
        StreamOpen queued = c.openingIds.get(sid);
        if (queued != null) {
            if (!queued.equals(open)) {
                protocolViolation(c, "STREAM_OPEN repeats stream id " + sid + " for another request");
            }
            return; // a copy of an open already queued: its reply comes with the batch
        }
        int held = c.streams.size() + c.openingIds.size();
        if (held >= cfg.maxStreamsPerConnection()) {
            queueControl(c.address, Integer.MAX_VALUE, c.id, StreamReply.newBuilder().setStreamId(sid)
                .setStatus(StreamStatus.TOO_MANY_STREAMS).setMessage("stream table full").build());
            return;
        }
        if (overStreamQuota(held)) {
            quotaRefusals++;
            queueControl(c.address, Integer.MAX_VALUE, c.id, StreamReply.newBuilder().setStreamId(sid)
                .setStatus(StreamStatus.QUOTA_EXCEEDED).setMessage("this agent holds " + held + " streams, its share"
                    + " of the server's " + serverStreamLimit + " while few are free; retry later").build());
            return;
        }
        // Opened with the others of this turn: a store can then make their metadata durable together.
        c.openingIds.put(sid, open);
        openConns.add(c);
        openRequests.add(new StreamStore.OpenRequest(c.agentId, open));
    }

    /**
     * Per-agent stream quota within the server-wide limit (wire-spec 6.1, issue 13 item 3): an agent may hold
     * more than its fair share (limit / (connections + 1)) only while more than a quarter of the limit is free, so
     * one agent can never take the streams the others need.
     */
    private boolean overStreamQuota(int agentHeld) {
        if (serverStreamLimit == Integer.MAX_VALUE) {
            return false;
        }
        // Counting one agent more than are connected: the next to come needs a share too.
        int fairShare = Math.max(1, serverStreamLimit / (conns.size() + 1));
        long free = serverStreamLimit - (streamsHeld + openRequests.size());
        return agentHeld >= fairShare && free <= serverStreamLimit / STREAM_RESERVE_DIVISOR;
    }

    /** Opens every stream requested since the last poll, in one call to the store, and answers each. */
    private void openPending() {
        java.util.List<StreamStore.OpenResult> results = store.openAll(openRequests);
        for (int i = 0; i < openRequests.size(); i++) {
            Conn c = openConns.get(i);
            StreamStore.OpenResult r = results.get(i);
            StreamOpen open = openRequests.get(i).request();
            c.openingIds.remove(open.getStreamId());
            if (byId.get(c.id) != c) {
                if (r.stream() != null) {
                    r.stream().release(); // the connection closed meanwhile
                }
                continue;
            }
            answerOpen(c, open, r);
        }
        openConns.clear();
        openRequests.clear();
    }

    private void answerOpen(Conn c, StreamOpen open, StreamStore.OpenResult r) {
        int sid = open.getStreamId();
        StoredStream st = r.status() == StreamStatus.OK ? r.stream() : null;
        StreamReply reply = StreamReply.newBuilder().setStreamId(sid).setStatus(r.status())
            .setResumeOffset(r.resumeOffset()).setGeneration(r.generation())
            .setMessage(r.message() == null ? "" : r.message()).build();
        ServerStream s = new ServerStream(sid, open.getPath(), r.generation(), st, reply, open);
        if (st != null) {
            s.reportedDurable = st.durable();
            c.undurableBytes += Math.max(0, st.held() - st.durable());
            c.streams.put(sid, s);
            streamsHeld++;
        } else {
            // A refusal is no open stream (issue 13 item 4): in the stream table, ten refusals filled a 10-stream
            // table and locked the agent out until it reconnected. Only its reply is remembered, in a bounded
            // list, so a copy of the open gets the same answer (a STORAGE_ERROR must not turn into an OK for a
            // stream the agent has given up on).
            c.refused.put(sid, s);
            c.refusedOrder.add(sid);
            if (c.refusedOrder.size() > RECENTLY_CLOSED) {
                c.refused.remove(c.refusedOrder.poll());
            }
        }
        queueControl(c.address, Integer.MAX_VALUE, c.id, reply);
        events.onStreamOpened(c.agentId, open.getPath(), r.generation(), r.resumeOffset(), r.status());
    }

    /** STREAM_CLOSED once the final length is durable, or with less when we hold less (wire-spec 6.3). */
    private void answerCloses(Conn c) {
        if (c.pendingCloses == 0) {
            return;
        }
        boolean nothingPending = c.deliveredPn == c.tracker.cumulative() && !c.tracker.hasGap();
        ArrayList<ServerStream> done = null;
        for (ServerStream s : c.streams.values()) {
            if (s.closeFinal < 0) {
                continue;
            }
            long durable = s.stored.durable();
            long held = s.stored.held();
            boolean complete = durable >= s.closeFinal;
            boolean short_ = held < s.closeFinal && nothingPending && durable >= held;
            if (complete && !s.stored.close(s.closeFinal)) {
                continue; // not recorded (the store logged why): the agent's repeat of STREAM_CLOSE retries
            }
            if (complete || short_) {
                if (done == null) {
                    done = new ArrayList<>();
                }
                done.add(s);
            }
        }
        if (done == null) {
            return;
        }
        for (ServerStream s : done) {
            long durable = s.stored.durable();
            queueControl(c.address, Integer.MAX_VALUE, c.id,
                StreamClosed.newBuilder().setStreamId(s.id).setDurableLength(durable).build());
            c.undurableBytes -= Math.max(0, s.stored.held() - durable);
            s.stored.release();
            c.streams.remove(s.id);
            streamsHeld--;
            c.pendingCloses--;
            c.recentlyClosed.put(s.id, durable);
            c.recentlyClosedOrder.add(s.id);
            if (c.recentlyClosedOrder.size() > RECENTLY_CLOSED) {
                c.recentlyClosed.remove(c.recentlyClosedOrder.poll());
            }
        }
    }

    private void protocolViolation(Conn c, String reason) {
        protocolViolations++;
        closeConnection(c, CloseCode.PROTOCOL_VIOLATION, reason, true);
    }

    private void closeConnection(Conn c, CloseCode code, String reason, boolean sendClose) {
        if (byId.remove(c.id) == null) {
            return;
        }
        if (byAgent.get(c.agentId) == c) {
            byAgent.remove(c.agentId);
        }
        conns.remove(c);
        SourceState src = sources.get(c.address.getAddress());
        if (src != null) {
            src.connections--;
        }
        heldTotal -= c.heldBytes; // the ring goes with the connection
        c.heldBytes = 0;
        java.util.Arrays.fill(c.slots, null);
        for (ServerStream s : c.streams.values()) {
            if (s.stored != null) {
                s.stored.release();
            }
        }
        streamsHeld -= c.streams.size();
        c.streams.clear();
        if (sendClose) {
            queueControl(c.address, Integer.MAX_VALUE, c.id,
                Close.newBuilder().setCode(code).setReason(reason == null ? "" : reason).build());
        }
        events.onClosed(c.agentId, c.id, code);
        events.onConnectionEnded(c.agentId, c.id, c.bytesReceived);
    }

    private void queueControl(InetSocketAddress to, int maxLength, long connectionId, MessageLite body) {
        if (replies.size() >= MAX_QUEUED_REPLIES) {
            return; // the peer repeats its request
        }
        int len = ControlCodec.encode(scratch, 0, Math.min(maxLength, cfg.maxDatagramSize()), connectionId, body);
        if (len <= 0) {
            return;
        }
        byte[] bytes = new byte[len];
        scratch.getBytes(0, bytes);
        replies.add(new Outgoing(to, bytes));
    }

    private void queueRaw(InetSocketAddress to, byte[] bytes) {
        if (replies.size() < MAX_QUEUED_REPLIES) {
            replies.add(new Outgoing(to, bytes));
        }
    }

    // ---------------------------------------------------------------- output and timers

    /** Writes the next datagram into {@code out} at index 0; its destination is {@link #lastDestination()}. */
    public int poll(MutableDirectBuffer out, long nowNs) {
        lastNowNs = nowNs;
        store.maintain(nowNs);
        if (storeUnflushed || (storeRetryNs != Long.MAX_VALUE && nowNs - storeRetryNs >= 0)) {
            storeUnflushed = false;
            storeRetryNs = store.flush() ? Long.MAX_VALUE : nowNs + cfg.appendRetryNs();
        }
        if (!openRequests.isEmpty()) {
            openPending();
        }
        if (rescanActive || nowNs - nextActiveScanNs >= 0) {
            scanActive(nowNs);
        }
        if (!replies.isEmpty()) {
            return sendReply(out);
        }
        if (durableAdvanced) {
            durableAdvanced = false;
            for (int k = 0; k < conns.size(); k++) {
                Conn c = conns.get(k);
                c.durableDirty = true;
                c.closeCheck = c.pendingCloses > 0;
            }
        }
        int n = conns.size();
        for (int k = 0; k < n && k < conns.size(); k++) {
            int idx = (roundRobin + k) % conns.size();
            Conn c = conns.get(idx);
            if (nowNs - c.lastReceivedNs >= cfg.idleTimeoutNs()) {
                closeConnection(c, CloseCode.IDLE_TIMEOUT, "idle", false);
                k--;
                n--;
                continue;
            }
            if (c.stalledUntilNs != Long.MAX_VALUE && nowNs - c.stalledUntilNs >= 0) {
                deliver(c, nowNs);
                if (byId.get(c.id) != c) {
                    continue; // closed by a protocol violation
                }
            }
            if (!replies.isEmpty()) {
                roundRobin = idx;
                return sendReply(out);
            }
            if (c.limiterTimerNs != Long.MAX_VALUE && nowNs - c.limiterTimerNs >= 0) {
                // The limiter said it could allow a window by now: ackDue sends the unsolicited ACK
                // if it does; otherwise wait for its next estimate (at least 1 ms away, never a spin).
                c.limiterTimerNs = Long.MAX_VALUE;
                if (c.window(nowNs) < c.maxPayload()) {
                    armLimiterTimer(c, nowNs);
                }
            }
            if (ackDue(c, nowNs)) {
                // The ACK (with durable entries) goes before any STREAM_CLOSED it makes possible.
                roundRobin = idx + 1;
                lastDestination = c.address;
                return writeAck(c, out, nowNs);
            }
            if (c.closeCheck) {
                c.closeCheck = false;
                answerCloses(c);
                if (!replies.isEmpty()) {
                    roundRobin = idx;
                    return sendReply(out);
                }
            }
        }
        if (!replies.isEmpty()) {
            return sendReply(out);
        }
        return 0;
    }

    private int sendReply(MutableDirectBuffer out) {
        Outgoing o = replies.poll();
        out.putBytes(0, o.bytes);
        lastDestination = o.to;
        return o.bytes.length;
    }

    private boolean ackDue(Conn c, long nowNs) {
        if (c.ackNow || c.durableDirty) {
            return true;
        }
        if (c.unackedData > 0 && nowNs - c.ackDeadlineNs >= 0) {
            return true;
        }
        // A window that reopens from (near) zero is announced at once (wire-spec.md 7.2).
        long mps = c.maxPayload();
        return c.lastAdvertisedWindow < mps && c.window(nowNs) >= mps;
    }

    /** After advertising less than one payload because of the limiter, wake up when it allows more. */
    private void armLimiterTimer(Conn c, long nowNs) {
        if (c.bufferWindow() < c.maxPayload()) {
            c.limiterTimerNs = Long.MAX_VALUE; // the buffers limit: draining them reopens the window
            return;
        }
        long t = limiter.whenAllowed(c.agentId, c.maxPayload(), nowNs);
        c.limiterTimerNs = t == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(t, nowNs + 1_000_000L);
    }

    private int writeAck(Conn c, MutableDirectBuffer out, long nowNs) {
        int durableCount = 0;
        boolean rescan = c.durableDirty || c.repeatDurable || c.lastAdvertisedWindow < c.maxDatagram;
        // An ACK answering a PING repeats every durable offset: an idle agent whose earlier ACK was lost learns
        // them no other way (wire-spec.md 5).
        boolean repeat = c.repeatDurable;
        c.repeatDurable = false;
        int words = c.tracker.wordCount();
        ack.wrapForEncode(out, 0, out.capacity());
        int entriesBase = Wire.ACK_FIXED_LENGTH + 8 * words;
        if (rescan) {
            long undurable = 0;
            boolean more = false;
            int index = 0;
            int repeatNext = 0;
            for (ServerStream s : c.streams.values()) {
                if (s.stored == null) {
                    continue;
                }
                long durable = s.stored.durable();
                undurable += Math.max(0, s.stored.held() - durable);
                boolean advanced = durable > s.reportedDurable;
                boolean repeated = repeat && durable > 0 && index++ >= c.repeatFrom;
                if (advanced || repeated) {
                    if (durableCount < Wire.MAX_DURABLE_ENTRIES) {
                        int at = entriesBase + Wire.DURABLE_ENTRY_LENGTH * durableCount++;
                        out.putInt(at, s.id, Wire.BYTE_ORDER);
                        out.putLong(at + 4, durable, Wire.BYTE_ORDER);
                        s.reportedDurable = durable;
                    } else if (advanced) {
                        more = true; // news goes in the next ACK
                    } else if (repeatNext == 0) {
                        repeatNext = index - 1; // the next PING's ACK repeats from here
                    }
                }
            }
            if (repeat) {
                c.repeatFrom = repeatNext;
            }
            c.undurableBytes = undurable;
            c.durableDirty = more;
        }
        long window = c.window(nowNs);
        if (window < c.maxPayload()) {
            window = 0; // less than one payload is no window (wire-spec.md 7.1): say so plainly
        }
        ack.encode(c.id, c.tracker.cumulative(), c.echoTimestamp, Math.max(0, nowNs - c.echoArrivalNs), window,
            words, durableCount);
        for (int w = 0; w < words; w++) {
            ack.sackWord(w, c.tracker.word(w));
        }
        c.ackNow = false;
        c.overflowSinceAck = 0;
        c.unackedData = 0;
        c.ackDeadlineNs = Long.MAX_VALUE;
        c.lastAdvertisedWindow = window;
        if (window < c.maxPayload()) {
            armLimiterTimer(c, nowNs);
        } else {
            c.limiterTimerNs = Long.MAX_VALUE;
        }
        acksSent++;
        return ack.seal();
    }

    /** When {@link #poll} should next be called; a value at or before now means now. */
    public long nextDeadline() {
        if (!replies.isEmpty() || durableAdvanced || storeUnflushed || !openRequests.isEmpty()) {
            return Long.MIN_VALUE;
        }
        long d = storeRetryNs;
        for (int k = 0; k < conns.size(); k++) {
            Conn c = conns.get(k);
            if (c.ackNow || c.durableDirty || c.closeCheck) {
                return Long.MIN_VALUE;
            }
            if (c.lastAdvertisedWindow < c.maxPayload() && c.window(lastNowNs) >= c.maxPayload()) {
                return Long.MIN_VALUE;
            }
            d = Math.min(d, c.limiterTimerNs);
            d = Math.min(d, c.lastReceivedNs + cfg.idleTimeoutNs());
            if (c.unackedData > 0) {
                d = Math.min(d, c.ackDeadlineNs);
            }
            d = Math.min(d, c.stalledUntilNs);
        }
        return d;
    }
}
