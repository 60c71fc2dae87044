package io.tailwire.server.admin;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

import io.tailwire.config.Configuration;
import io.tailwire.http.Health;
import io.tailwire.http.HttpEndpoint;
import io.tailwire.http.HttpEndpoint.Refusal;
import io.tailwire.http.HttpEndpoint.Request;
import io.tailwire.http.Json;
import io.tailwire.http.MetricRegistry;
import io.tailwire.server.limit.IngestThrottle;
import io.tailwire.server.status.StatusSource;

/**
 * The server's operator HTTP endpoint ({@code --admin HOST:PORT}), on an {@link HttpEndpoint} (which
 * checks Host, Origin and bodies and bounds each request's time, the same for the agent's endpoint):
 * <ul>
 * <li>{@code GET /throttle[?agent=ID]} - the ingest rate settings, as JSON;</li>
 * <li>{@code POST /throttle?bytes_per_second=N[&agent=ID]} - sets the server-wide (or the agent's)
 * rate: N bytes per second, 0 pauses, -1 removes the limit; answers with the new settings;</li>
 * <li>{@code GET /metrics} - Prometheus text format 0.0.4, or OpenMetrics when the Accept header asks
 * for it (written by Prometheus' Java client, see {@link MetricRegistry});</li>
 * <li>{@code GET /status} - agents and streams, as JSON;</li>
 * <li>{@code GET /health} - liveness: 200 "ok" while the server's threads run, else 503 and why;</li>
 * <li>{@code GET /ready} - readiness: 200 "ok" while it takes data, else 503 and why (starting, stopping,
 * storage refusing writes).</li>
 * </ul>
 * Other methods get 405, other paths 404, bad parameters 400 with a one-line plain-text reason.
 * Requests only read published state, so the admin endpoint never blocks the engine. It has no
 * authentication: bind it to a trusted interface.
 */
public final class AdminServer implements AutoCloseable {
    /** Threads serving requests; each request holds one for at most the request timeout. */
    static final int HANDLER_THREADS = HttpEndpoint.HANDLER_THREADS;
    private static final String JSON = HttpEndpoint.JSON;

    private final IngestThrottle throttle;
    private final StatusSource status;
    private final Consumer<String> log;
    private final HttpEndpoint http;

    public AdminServer(InetSocketAddress bind, IngestThrottle throttle, MetricRegistry metrics, StatusSource status,
                       Health health) {
        this(bind, throttle, metrics, status, health, s -> { });
    }

    /** {@code log} receives one line per setting changed, and handler failures. */
    public AdminServer(InetSocketAddress bind, IngestThrottle throttle, MetricRegistry metrics, StatusSource status,
                       Health health, Consumer<String> log) {
        this(bind, throttle, metrics, status, health, log, Configuration.ADMIN_REQUEST_TIMEOUT_MS);
    }

    /** {@code requestTimeoutMs}: how long one request may hold a handler thread (tests use a short one). */
    AdminServer(InetSocketAddress bind, IngestThrottle throttle, MetricRegistry metrics, StatusSource status,
                Health health, Consumer<String> log, long requestTimeoutMs) {
        this.throttle = Objects.requireNonNull(throttle, "throttle");
        this.status = Objects.requireNonNull(status, "status");
        this.log = Objects.requireNonNull(log, "log");
        Map<String, HttpEndpoint.Handler> routes = new LinkedHashMap<>();
        routes.put("/status", r -> {
            r.only("GET");
            r.send(200, JSON, status());
        });
        routes.put("/metrics", HttpEndpoint.metricsRoute(metrics));
        routes.put("/throttle", this::throttle);
        routes.putAll(HttpEndpoint.healthRoutes(health));
        this.http = new HttpEndpoint(bind, routes, log, requestTimeoutMs);
    }

    /**
     * Binds and starts serving.
     *
     * @throws IOException the address cannot be bound (in use, not local, unresolved), with a plain message
     */
    public void start() throws IOException {
        http.start();
    }

    /**
     * One line to log as a warning when {@code bind} is not a loopback address (anyone who can reach
     * it can read metrics and pause ingest), or null when it is.
     */
    public static String exposureWarning(InetSocketAddress bind) {
        InetAddress a = bind.getAddress();
        if (a != null && a.isLoopbackAddress()) {
            return null;
        }
        return "admin endpoint on " + HttpEndpoint.show(bind) + " is reachable from other hosts and has no "
                + "authentication: anyone who can connect can read /status and /metrics and pause ingest with "
                + "POST /throttle; bind it to 127.0.0.1 unless a firewall allows only trusted hosts";
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return http.port();
    }

    /** Stops at once; requests in progress are cut off. Idempotent. */
    @Override
    public void close() {
        http.close();
    }

    // ------------------------------------------------------------------ /throttle

    private void throttle(Request x) throws Refusal, IOException {
        x.allow("GET", "POST");
        if (x.method().equals("GET")) {
            Map<String, String> p = x.params(Set.of("agent"));
            String agent = p.get("agent");
            if (agent != null) {
                checkAgent(agent);
            }
            x.send(200, JSON, throttleState(agent));
            return;
        }
        Map<String, String> p = x.params(Set.of("agent", "bytes_per_second"));
        String agent = p.get("agent");
        String rateText = p.get("bytes_per_second");
        if (rateText == null) {
            throw new Refusal(400, "missing bytes_per_second (N bytes per second, 0 = pause, -1 = unlimited)");
        }
        long rate;
        try {
            rate = Long.parseLong(rateText);
        } catch (NumberFormatException e) {
            throw new Refusal(400, "bytes_per_second must be an integer, not '" + HttpEndpoint.oneLine(rateText)
                + "'");
        }
        try {
            IngestThrottle.checkRate(rate);
            if (agent == null) {
                throttle.setGlobal(rate);
                log.accept("admin: server-wide ingest rate set to " + describe(rate));
            } else {
                checkAgent(agent);
                throttle.setAgent(agent, rate);
                log.accept("admin: ingest rate of agent " + agent + " set to " + describe(rate));
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new Refusal(400, e.getMessage());
        }
        x.send(200, JSON, throttleState(agent));
    }

    private static void checkAgent(String agent) throws Refusal {
        try {
            IngestThrottle.checkAgentId(agent);
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, e.getMessage());
        }
    }

    private static String describe(long rate) {
        return rate == IngestThrottle.UNLIMITED ? "unlimited" : rate == 0 ? "0 (paused)" : rate + " bytes/s";
    }

    /**
     * {"global_bytes_per_second":G,"agents":[{"agent":..,"bytes_per_second":..,"effective_bytes_per_second":..}],
     * and with an agent asked about, "agent":{"agent":..,"bytes_per_second":..,"effective_bytes_per_second":..}}.
     */
    private String throttleState(String agent) {
        IngestThrottle.Snapshot s = throttle.snapshot();
        Json j = new Json().beginObject();
        j.field("global_bytes_per_second", s.globalBytesPerSecond());
        j.name("agents").beginArray();
        for (Map.Entry<String, Long> e : s.agents().entrySet()) {
            agentThrottle(j, s, e.getKey());
        }
        j.endArray();
        if (agent != null) {
            j.name("agent");
            agentThrottle(j, s, agent);
        }
        return j.endObject().toString() + "\n";
    }

    private static void agentThrottle(Json j, IngestThrottle.Snapshot s, String agent) {
        Long own = s.agents().get(agent);
        j.beginObject()
                .field("agent", agent)
                .field("bytes_per_second", own == null ? IngestThrottle.UNLIMITED : own)
                .field("effective_bytes_per_second", s.effective(agent))
                .endObject();
    }

    // ------------------------------------------------------------------ /status

    private String status() {
        List<StatusSource.Agent> agents = status.agents();
        IngestThrottle.Snapshot s = throttle.snapshot();
        Json j = new Json(new StringBuilder(256 + agents.size() * 256)).beginObject();
        j.name("agents").beginArray();
        for (StatusSource.Agent a : agents) {
            j.beginObject()
                    .field("agent", a.agentId())
                    .field("connected", a.connected())
                    .field("remote_address", a.remoteAddress())
                    .field("connected_since", time(a.connectedSince()))
                    .field("last_seen", time(a.lastSeen()))
                    .field("window", a.window())
                    .field("bytes_received", a.bytesReceived())
                    .field("throttle_bytes_per_second", s.effective(a.agentId()));
            j.name("streams").beginArray();
            for (StatusSource.Stream st : a.streams()) {
                j.beginObject()
                        .field("path", st.path())
                        .field("generation", st.generation())
                        .field("held", st.held())
                        .field("durable", st.durable())
                        .endObject();
            }
            j.endArray().endObject();
        }
        j.endArray();
        j.field("global_throttle_bytes_per_second", s.globalBytesPerSecond());
        return j.endObject().toString() + "\n";
    }

    private static String time(Instant t) {
        return t == null ? null : t.toString();
    }

}
