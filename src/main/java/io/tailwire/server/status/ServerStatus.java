package io.tailwire.server.status;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;

import io.tailwire.config.Configuration;
import io.tailwire.engine.ServerEndpoint;
import io.tailwire.http.MetricRegistry;
import io.tailwire.server.store.OutputStore;

/**
 * What the admin endpoint shows, published by the engine thread: every ~250 ms it calls
 * {@link #publish}, which copies the engine's connections and counters into immutable objects behind a
 * volatile field. The HTTP threads ({@link #agents()}, metric suppliers) only read those, so they never
 * touch the engine's live structures and never block it.
 */
public final class ServerStatus implements StatusSource {
    /** How often the engine thread should publish. */
    public static final long PUBLISH_INTERVAL_NS = 250_000_000L;
    /** Disconnected agents remembered for /status (the most recently seen ones). */
    static final int MAX_REMEMBERED = 10_000;

    /** Engine counters at one moment. */
    public record Counters(ServerEndpoint.Stats stats, long bytesReceived, long lossReportedBytes,
                           int activeConnections, int stalledConnections) {
        static final Counters ZERO = new Counters(new ServerEndpoint.Stats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            0, 0, 0, 0);
    }

    /** "Active": delivered new DATA bytes within this long (as the engine counts its memory sharers). */
    static final long ACTIVE_NS = 1_000_000_000L;
    /** Shortest gap between a publish forced by a connect or disconnect and the previous publish. */
    static final long REPUBLISH_MIN_GAP_NS = 10_000_000L;

    private volatile List<Agent> agents = List.of();
    private volatile Counters counters = Counters.ZERO;
    private volatile long lingerNs = Configuration.DISCONNECTED_AGENT_LINGER_NS;
    /** Agents whose linger ran out: their per-agent series are not exported until they return. */
    private volatile java.util.Set<String> expired = java.util.Set.of();
    private final ConcurrentHashMap<String, AtomicLong> lossByAgent = new ConcurrentHashMap<>();
    // Engine thread only.
    /** A disconnected agent: what it had when last seen, and since when (engine clock) it is gone. */
    private record Gone(Agent agent, long sinceNs) {
    }

    private final LinkedHashMap<String, Gone> gone = new LinkedHashMap<>();
    private final Map<String, Agent> lastConnected = new java.util.HashMap<>();
    /** Per agent: new payload bytes of its connections that have ended, for the server's lifetime. */
    private final Map<String, Long> endedBytes = new java.util.HashMap<>();
    /** Per live agent: {connectedAtNs, bytes at the last change, engine time of the last change}. */
    private final Map<String, long[]> activity = new java.util.HashMap<>();
    private final HashSet<String> expiredIds = new HashSet<>();
    private boolean republish;
    private long lastPublishNs = Long.MIN_VALUE;

    @Override
    public List<Agent> agents() {
        return agents;
    }

    public Counters counters() {
        return counters;
    }

    /** How long disconnected agents stay listed (default {@link Configuration#DISCONNECTED_AGENT_LINGER_NS}). */
    public void setDisconnectedLingerNs(long ns) {
        if (ns < 0) {
            throw new IllegalArgumentException("linger must be >= 0: " + ns);
        }
        lingerNs = ns;
    }

    /** Engine thread: an agent reported bytes lost at its source (LOSS_REPORT). */
    public void onLossReport(String agentId, long bytes) {
        if (agentId != null && bytes > 0) {
            lossByAgent.computeIfAbsent(agentId, k -> new AtomicLong()).addAndGet(bytes);
        }
    }

    /** Engine thread: an agent connected; the next publish comes early so /status shows it at once. */
    public void onConnected(String agentId) {
        republish = true;
    }

    /**
     * Engine thread: a connection ended with {@code bytesReceived} new payload bytes. They stay in the
     * agent's counters (which only ever grow), and the next publish comes early to mark it disconnected.
     */
    public void onConnectionEnded(String agentId, long bytesReceived) {
        endedBytes.merge(agentId, bytesReceived, Long::sum);
        republish = true;
    }

    /** Engine thread: when the next publish is due, given the regular one at {@code regularNs}. */
    public long nextPublishNs(long regularNs) {
        if (!republish || lastPublishNs == Long.MIN_VALUE) {
            return regularNs;
        }
        return Math.min(regularNs, lastPublishNs + REPUBLISH_MIN_GAP_NS);
    }

    /**
     * Engine thread: copies the endpoint's state. {@code nowNs} is the engine clock and {@code wallNow}
     * the wall clock at the same moment (to turn engine times into instants).
     */
    public void publish(ServerEndpoint endpoint, long nowNs, Instant wallNow) {
        republish = false;
        lastPublishNs = nowNs;
        List<ServerEndpoint.ConnectionInfo> conns = endpoint.connections();
        TreeMap<String, Agent> byId = new TreeMap<>();
        HashSet<String> live = new HashSet<>();
        int stalled = 0;
        int active = 0;
        for (ServerEndpoint.ConnectionInfo c : conns) {
            List<Stream> streams = new ArrayList<>(c.streams().size());
            for (ServerEndpoint.StreamInfo s : c.streams()) {
                streams.add(new Stream(s.path(), s.generation(), s.held(), s.durable()));
            }
            streams.sort((a, b) -> a.path().equals(b.path()) ? Long.compare(a.generation(), b.generation())
                : a.path().compareTo(b.path()));
            InetSocketAddress addr = c.address();
            Agent a = new Agent(c.agentId(), true, addr.getAddress().getHostAddress() + ":" + addr.getPort(),
                at(wallNow, nowNs, c.connectedAtNs()), at(wallNow, nowNs, c.lastReceivedNs()), c.window(),
                endedBytes.getOrDefault(c.agentId(), 0L) + c.bytesReceived(), streams);
            byId.put(a.agentId(), a);
            live.add(a.agentId());
            if (c.stalled()) {
                stalled++;
            }
            long[] act = activity.get(c.agentId());
            if (act == null || act[0] != c.connectedAtNs()) {
                act = new long[] {c.connectedAtNs(), 0, Long.MIN_VALUE};
                activity.put(c.agentId(), act);
            }
            if (c.bytesReceived() != act[1]) {
                act[1] = c.bytesReceived();
                act[2] = nowNs;
            }
            if (act[2] != Long.MIN_VALUE && nowNs - act[2] < ACTIVE_NS) {
                active++;
            }
        }
        activity.keySet().retainAll(live);
        // Agents that went away stay listed as disconnected, with their lifetime counters, for the linger.
        for (Map.Entry<String, Agent> e : lastConnected.entrySet()) {
            if (!live.contains(e.getKey())) {
                Agent o = e.getValue();
                gone.remove(o.agentId());
                gone.put(o.agentId(), new Gone(new Agent(o.agentId(), false, null, null, o.lastSeen(), -1,
                    endedBytes.getOrDefault(o.agentId(), o.bytesReceived()), List.of()), nowNs));
            }
        }
        // A connection that came and went between two publishes still leaves its agent listed.
        for (String id : endedBytes.keySet()) {
            if (!live.contains(id) && !lastConnected.containsKey(id) && !gone.containsKey(id)
                && !expiredIds.contains(id)) {
                gone.put(id, new Gone(new Agent(id, false, null, null, null, -1, endedBytes.get(id), List.of()),
                    nowNs));
            }
        }
        lastConnected.clear();
        lastConnected.putAll(byId);
        boolean expiredChanged = expiredIds.removeAll(live);
        for (String id : live) {
            gone.remove(id);
        }
        long linger = lingerNs;
        for (java.util.Iterator<Gone> it = gone.values().iterator(); it.hasNext(); ) {
            Gone g = it.next();
            if (nowNs - g.sinceNs() >= linger || gone.size() > MAX_REMEMBERED) {
                it.remove();
                expiredIds.add(g.agent().agentId());
                expiredChanged = true;
            }
        }
        if (expiredChanged) {
            expired = java.util.Set.copyOf(expiredIds);
        }
        for (Gone g : gone.values()) {
            byId.putIfAbsent(g.agent().agentId(), g.agent());
        }
        agents = List.copyOf(byId.values());
        counters = new Counters(endpoint.stats(), endpoint.bytesReceived(), endpoint.lossReportedBytes(),
            active, stalled);
    }

    private static Instant at(Instant wallNow, long nowNs, long eventNs) {
        return wallNow.minusNanos(Math.max(0, nowNs - eventNs));
    }

    /**
     * Registers the server's own metrics: engine counters (from the published snapshot) and the output
     * store's (its getters read volatile/atomic fields).
     */
    public void register(MetricRegistry m, OutputStore store, long memoryBudgetBytes) {
        gauge(m, "tailwire_connections", "Live agent connections.", () -> counters.stats().connections());
        gauge(m, "tailwire_active_connections", "Connections that delivered new DATA bytes in the last second "
            + "(they share the memory budget).", () -> counters.activeConnections());
        gauge(m, "tailwire_stalled_connections", "Connections whose storage refuses writes (window closed, "
            + "retrying).", () -> counters.stalledConnections());
        gauge(m, "tailwire_memory_budget_bytes", "Receive buffer memory shared by all connections.",
            () -> memoryBudgetBytes);
        counter(m, "tailwire_datagrams_received_total", "Datagrams received.",
            () -> counters.stats().datagramsReceived());
        counter(m, "tailwire_datagrams_dropped_total", "Datagrams dropped (invalid, unknown connection, beyond "
            + "the buffer).", () -> counters.stats().datagramsDropped());
        counter(m, "tailwire_data_packets_total", "DATA packets received.", () -> counters.stats().dataPackets());
        counter(m, "tailwire_duplicates_discarded_total", "DATA packets discarded as duplicates (retransmissions "
            + "of what was already received).", () -> counters.stats().duplicates());
        counter(m, "tailwire_received_bytes_total", "New payload bytes received.", () -> counters.bytesReceived());
        counter(m, "tailwire_acks_sent_total", "ACKs sent.", () -> counters.stats().acksSent());
        counter(m, "tailwire_busy_rejections_total", "Connections refused with BUSY (--max-connections).",
            () -> counters.stats().busyRejections());
        counter(m, "tailwire_agent_id_refusals_total", "HELLOs refused with AGENT_ID_IN_USE: another agent holds the "
            + "id (two agents share one --id).", () -> counters.stats().agentIdRefusals());
        counter(m, "tailwire_append_stalls_total", "Writes the store refused (disk full, I/O error) and the "
            + "engine retried.", () -> counters.stats().appendStalls());
        counter(m, "tailwire_protocol_violations_total", "Connections closed for protocol violations.",
            () -> counters.stats().protocolViolations());
        m.register(CounterWithCallback.builder().name("tailwire_loss_reported_bytes_total")
            .help("Bytes agents reported lost at the source (LOSS_REPORT: rotated away before they could be read).")
            .labelNames("agent")
            .callback(out -> {
                java.util.Set<String> hidden = expired;
                for (Map.Entry<String, AtomicLong> e : new TreeMap<>(lossByAgent).entrySet()) {
                    if (hidden.contains(e.getKey())) {
                        continue; // disconnected past the linger: the series goes, the count is kept
                    }
                    out.call(e.getValue().get(), e.getKey());
                }
            }).build());
        counter(m, "tailwire_store_bytes_written_total", "Bytes written to output files.", store::bytesWritten);
        counter(m, "tailwire_store_bytes_durable_total", "Bytes written and forced to disk.", store::bytesDurable);
        gauge(m, "tailwire_store_unsynced_bytes", "Bytes written but not yet forced (disk lag).",
            store::unsyncedBytes);
        counter(m, "tailwire_store_disk_errors_total", "Failed writes, forces and opens.", store::diskErrors);
        counter(m, "tailwire_store_forces_total", "fsync calls.", store::forces);
        counter(m, "tailwire_store_rejected_paths_total", "Streams refused for a bad path.", store::rejectedPaths);
        gauge(m, "tailwire_store_live_streams", "Streams open in the store.", store::liveStreams);
        gauge(m, "tailwire_store_open_files", "Output files open.", store::openFiles);
    }

    /** A gauge without labels read from {@code value} on each scrape. */
    static void gauge(MetricRegistry m, String name, String help, LongSupplier value) {
        m.register(GaugeWithCallback.builder().name(name).help(help).callback(out -> out.call(value.getAsLong()))
            .build());
    }

    /** A counter without labels read from {@code value} on each scrape. */
    static void counter(MetricRegistry m, String name, String help, LongSupplier value) {
        m.register(CounterWithCallback.builder().name(name).help(help).callback(out -> out.call(value.getAsLong()))
            .build());
    }
}
