package io.tailwire.engine;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.random.RandomGenerator;

import io.tailwire.proto.Close;
import io.tailwire.proto.CloseCode;

import org.agrona.collections.Long2ObjectHashMap;

/**
 * The connection table: connections by id, by agent id and in arrival order, the per-source-address state,
 * and closing a connection with everything it holds (streams, reorder ring, its place in the tables).
 */
@EngineThread
final class ServerConnections {
    /** A full table closes a connection quiet (no DATA) for this long to admit a newcomer: 10 s. */
    static final long QUIET_EVICT_NS = 10_000_000_000L;
    /** A source address with no connection is forgotten once its handshake bucket has refilled (1 s). */
    private static final long SOURCE_FORGET_NS = 1_000_000_000L;

    /** Per source IP address: its connections, and a token bucket of handshakes (one second's worth deep). */
    static final class SourceState {
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

    private final Long2ObjectHashMap<ServerConnection> byId = new Long2ObjectHashMap<>();
    private final HashMap<String, ServerConnection> byAgent = new HashMap<>();
    /** In arrival order: the order the turn serves them in. */
    final ArrayList<ServerConnection> list = new ArrayList<>();
    final HashMap<InetAddress, SourceState> sources = new HashMap<>();
    /** Streams open on all connections (refusals hold none). */
    int streamsHeld;

    private final ServerReplies replies;
    private final ServerWindows windows;
    private final ServerCounters counters;
    private final ServerEvents events;
    private final ServerTimers timers;

    ServerConnections(ServerReplies replies, ServerWindows windows, ServerCounters counters, ServerEvents events,
                      ServerTimers timers) {
        this.timers = timers;
        this.replies = replies;
        this.windows = windows;
        this.counters = counters;
        this.events = events;
    }

    ServerConnection get(long id) {
        return byId.get(id);
    }

    ServerConnection byAgent(String agentId) {
        return byAgent.get(agentId);
    }

    /** Still in the table (not closed since it was looked up). */
    boolean isOpen(ServerConnection c) {
        return byId.get(c.id) == c;
    }

    int size() {
        return list.size();
    }

    List<ServerConnection> all() {
        return list;
    }

    /** A fresh connection id: never 0, never one in use. */
    long newId(RandomGenerator random) {
        long id;
        do {
            id = random.nextLong();
        } while (id == 0 || byId.containsKey(id));
        return id;
    }

    void add(ServerConnection c, SourceState src) {
        byId.put(c.id, c);
        byAgent.put(c.agentId, c);
        c.position = list.size();
        list.add(c);
        src.connections++;
        timers.added(c, c.position);
    }

    /** Tells the timers that {@code c}'s deadlines or flags may have changed. */
    void refresh(ServerConnection c) {
        timers.refresh(c, c.position);
    }

    void protocolViolation(ServerConnection c, String reason) {
        counters.protocolViolations++;
        close(c, CloseCode.PROTOCOL_VIOLATION, reason, true);
    }

    void close(ServerConnection c, CloseCode code, String reason, boolean sendClose) {
        if (byId.remove(c.id) == null) {
            return;
        }
        if (byAgent.get(c.agentId) == c) {
            byAgent.remove(c.agentId);
        }
        int position = c.position;
        int sizeBefore = list.size();
        list.remove(position);
        for (int p = position; p < list.size(); p++) {
            list.get(p).position = p; // O(n), as ArrayList.remove already is; closes are rare next to turns
        }
        timers.removed(c, position, sizeBefore);
        c.position = -1;
        SourceState src = sources.get(c.address.getAddress());
        if (src != null) {
            src.connections--;
        }
        windows.heldTotal -= c.heldBytes; // the ring goes with the connection
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
            replies.control(c.address, Integer.MAX_VALUE, c.id,
                Close.newBuilder().setCode(code).setReason(reason == null ? "" : reason).build());
        }
        events.onClosed(c.agentId, c.id, code);
        events.onConnectionEnded(c.agentId, c.id, c.bytesReceived);
    }

    /**
     * The table is full: makes room by closing (BUSY) the connection that has been without DATA the longest,
     * if that is at least {@link #QUIET_EVICT_NS}; agents sending data are never pushed out by newcomers.
     */
    boolean evictQuiet(long nowNs) {
        ServerConnection victim = null;
        for (ServerConnection c : list) {
            long quietSince = c.quietSinceNs();
            if (nowNs - quietSince >= QUIET_EVICT_NS && (victim == null || quietSince - victim.quietSinceNs() < 0)) {
                victim = c;
            }
        }
        if (victim == null) {
            return false;
        }
        counters.evictions++;
        close(victim, CloseCode.BUSY, "idle connection closed to admit another; reconnect when there is data", true);
        return true;
    }

    /** Drops the handshake state of addresses with no connection whose bucket has refilled: they cost nothing. */
    void forgetQuietSources(long nowNs) {
        sources.values().removeIf(st -> st.connections == 0 && nowNs - st.refilledNs >= SOURCE_FORGET_NS);
    }
}
