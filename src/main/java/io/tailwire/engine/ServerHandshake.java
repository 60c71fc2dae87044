package io.tailwire.engine;

import java.net.InetSocketAddress;
import java.util.random.RandomGenerator;

import com.google.protobuf.MessageLite;

import io.tailwire.config.Configuration;
import io.tailwire.proto.Close;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.Hello;
import io.tailwire.proto.Retry;
import io.tailwire.proto.Welcome;
import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.Wire;

import org.agrona.DirectBuffer;

/**
 * HELLO to WELCOME (wire-spec.md 3): the HELLO's own fields, the stateless RETRY cookie that validates the
 * source address, the agent id's holder, the per-address limits and the table's. Nothing is kept for a
 * HELLO until its token is valid. Engine thread, except the source limits, which any thread may set.
 */
@EngineThread
final class ServerHandshake {

    private final ServerEndpointConfig cfg;
    private final RetryTokens tokens;
    private final RandomGenerator random;
    private final long serverInstance;
    private final ServerConnections table;
    private final ServerReplies replies;
    private final ServerWindows windows;
    private final ServerCounters counters;
    private final ServerEvents events;
    /** Volatile: the command line sets them from the main thread while the engine runs. */
    private volatile int connectionsPerAddress = Configuration.MAX_CONNECTIONS_PER_ADDRESS;
    private volatile int handshakesPerSecond = Configuration.HANDSHAKES_PER_SECOND_PER_ADDRESS;

    ServerHandshake(ServerEndpointConfig cfg, RetryTokens tokens, RandomGenerator random, long serverInstance,
                    ServerConnections table, ServerReplies replies, ServerWindows windows,
                    ServerCounters counters, ServerEvents events) {
        this.cfg = cfg;
        this.tokens = tokens;
        this.random = random;
        this.serverInstance = serverInstance;
        this.table = table;
        this.replies = replies;
        this.windows = windows;
        this.counters = counters;
        this.events = events;
    }

    /** Any thread. */
    void setSourceLimits(int connections, int perSecond) {
        this.connectionsPerAddress = Math.max(1, connections);
        this.handshakesPerSecond = Math.max(1, perSecond);
    }

    void onHello(InetSocketAddress from, DirectBuffer buf, int index, int length, long nowNs) {
        if (length < Wire.MIN_HELLO_LENGTH) {
            counters.dropped++; // anti-amplification: a short HELLO gets nothing
            return;
        }
        MessageLite body = ControlCodec.decodeBody(Wire.TYPE_HELLO, buf, index, length);
        if (!(body instanceof Hello hello)) {
            counters.dropped++;
            return;
        }
        // The checks go in the order of wire-spec.md 3: the HELLO's own fields (no state needed, so before
        // address validation), then the token, then the agent id's holder and the connection limit.
        String agentId = hello.getAgentId();
        if (!Wire.isValidAgentId(agentId)) {
            replies.control(from, length, 0, Close.newBuilder().setCode(CloseCode.BAD_AGENT_ID)
                .setReason("agent_id must match " + Wire.AGENT_ID_RULE).build());
            return;
        }
        if (hello.getAuthKeyId() != 0) {
            // Authentication is reserved (wire-spec.md 9): accepting the HELLO would silently run unauthenticated.
            replies.control(from, length, 0, Close.newBuilder().setCode(CloseCode.PROTOCOL_VIOLATION)
                .setReason("authentication is not supported by this server (auth_key_id must be 0)").build());
            return;
        }
        int offered = hello.getMaxDatagramSize();
        if (offered != 0 && (offered < Wire.MIN_MAX_DATAGRAM || offered > Wire.MAX_MAX_DATAGRAM)) {
            replies.control(from, length, 0, Close.newBuilder().setCode(CloseCode.PROTOCOL_VIOLATION)
                .setReason("max_datagram_size must be 0 or " + Wire.MIN_MAX_DATAGRAM + ".." + Wire.MAX_MAX_DATAGRAM)
                .build());
            return;
        }
        if (!tokens.valid(hello.getToken().toByteArray(), from, agentId, nowNs)) {
            counters.retriesSent++;
            replies.control(from, length, 0, Retry.newBuilder().setClientNonce(hello.getClientNonce())
                .setToken(com.google.protobuf.ByteString.copyFrom(tokens.issue(from, agentId, nowNs))).build());
            return;
        }
        ServerConnection existing = table.byAgent(agentId);
        if (existing != null && nowNs - existing.lastReceivedNs >= cfg.idleTimeoutNs()) {
            table.close(existing, CloseCode.IDLE_TIMEOUT, "idle", false); // not live: not a holder
            existing = null;
        }
        if (existing != null && existing.clientNonce == hello.getClientNonce() && existing.address.equals(from)) {
            replies.raw(from, existing.welcome); // our WELCOME was lost
            counters.welcomesSent++;
            return;
        }
        if (existing != null && !existing.instanceId.equals(hello.getInstanceId())) {
            // Another agent with the same id (wire-spec.md 3): letting it replace the holder would interleave two
            // sources in one copy. Only the same instance (the same agent restarted) may take over.
            counters.agentIdRefusals++;
            if (!from.equals(existing.conflictLogged)) {
                existing.conflictLogged = from;
                events.onAgentIdInUse(agentId, existing.address, from);
            }
            replies.control(from, length, 0, Close.newBuilder().setCode(CloseCode.AGENT_ID_IN_USE)
                .setReason("agent id '" + agentId + "' is in use by another agent; give each agent a unique id")
                .build());
            return;
        }
        if (existing != null) {
            table.close(existing, CloseCode.REPLACED, "replaced by a newer connection", true);
        }
        // Per source address (validated by the token, so not spoofable): one host cannot fill the table
        // (issue 13 item 2: one socket made 10,000 connections in 4.3 s).
        java.net.InetAddress source = from.getAddress();
        ServerConnections.SourceState src = table.sources.get(source);
        if (src != null && src.connections >= connectionsPerAddress) {
            busy(from, length, "too many connections from " + source.getHostAddress());
            return;
        }
        if (src == null) {
            if (table.sources.size() >= cfg.maxConnections() * 2) {
                table.forgetQuietSources(nowNs);
            }
            src = new ServerConnections.SourceState(nowNs, handshakesPerSecond);
            table.sources.put(source, src);
        }
        if (!src.takeHandshake(nowNs, handshakesPerSecond)) {
            busy(from, length, "too many new connections per second from " + source.getHostAddress());
            return;
        }
        if (table.size() >= cfg.maxConnections() && !table.evictQuiet(nowNs)) {
            busy(from, length, "connection limit");
            return;
        }
        long id = table.newId(random);
        windows.scanActive(table.all(), nowNs);
        // 0: the agent did not say, so it gets the protocol default (wire-spec.md 8); both sides are >= 1200.
        int agreed = Math.min(cfg.maxDatagramSize(), offered == 0 ? Wire.DEFAULT_MAX_DATAGRAM : offered);
        Welcome w = Welcome.newBuilder().setClientNonce(hello.getClientNonce()).setConnectionId(id)
            .setServerInstance(serverInstance).setMaxDatagramSize(agreed)
            .setInitialWindow(windows.initialWindow(agentId, agreed, nowNs))
            .setIdleTimeoutMs((int) (cfg.idleTimeoutNs() / 1_000_000L))
            .setKeepaliveMs((int) (cfg.keepaliveNs() / 1_000_000L)).build();
        byte[] welcome = replies.encode(length, id, w);
        if (welcome == null) {
            counters.dropped++;
            return;
        }
        ServerConnection c = new ServerConnection(id, agentId, from, hello.getClientNonce(), hello.getInstanceId(),
            welcome, agreed, nowNs, w.getInitialWindow());
        if (c.lastAdvertisedWindow < c.maxPayload()) {
            windows.armLimiterTimer(c, nowNs); // a closed initial window reopens with an unsolicited ACK
        }
        table.add(c, src);
        windows.rescanActive = true; // a newcomer shares the socket budget at once
        replies.raw(from, welcome);
        counters.welcomesSent++;
        events.onConnected(agentId, from, id);
    }

    private void busy(InetSocketAddress from, int length, String reason) {
        counters.busyRejections++;
        replies.control(from, length, 0, Close.newBuilder().setCode(CloseCode.BUSY).setReason(reason)
            .setRetryAfterMs(cfg.busyRetryAfterMs()).build());
    }
}
