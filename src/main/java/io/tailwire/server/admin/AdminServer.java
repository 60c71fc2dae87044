package io.tailwire.server.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import io.tailwire.server.limit.IngestThrottle;
import io.tailwire.server.status.Metrics;
import io.tailwire.server.status.StatusSource;

/**
 * The operator's HTTP endpoint ({@code --admin HOST:PORT}), on the JDK's built-in HTTP server:
 * <ul>
 * <li>{@code GET /throttle[?agent=ID]} - the ingest rate settings, as JSON;</li>
 * <li>{@code POST /throttle?bytes_per_second=N[&agent=ID]} - sets the server-wide (or the agent's)
 * rate: N bytes per second, 0 pauses, -1 removes the limit; answers with the new settings;</li>
 * <li>{@code GET /metrics} - Prometheus text format;</li>
 * <li>{@code GET /status} - agents and streams, as JSON.</li>
 * </ul>
 * Other methods get 405, other paths 404, bad parameters 400 with a one-line plain-text reason.
 * Requests run on two daemon threads of their own and only read published state, so the admin
 * endpoint never blocks the engine. It has no authentication: bind it to a trusted interface.
 */
public final class AdminServer implements AutoCloseable {
    /** Form bodies (POST parameters may come as a body too) larger than this are refused. */
    static final int MAX_BODY = 4096;
    private static final String JSON = "application/json; charset=utf-8";
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

    private final InetSocketAddress bind;
    private final IngestThrottle throttle;
    private final Metrics metrics;
    private final StatusSource status;
    private final Consumer<String> log;
    private HttpServer server;
    private ExecutorService executor;

    public AdminServer(InetSocketAddress bind, IngestThrottle throttle, Metrics metrics, StatusSource status) {
        this(bind, throttle, metrics, status, s -> { });
    }

    /** {@code log} receives one line per setting changed, and handler failures. */
    public AdminServer(InetSocketAddress bind, IngestThrottle throttle, Metrics metrics, StatusSource status,
                       Consumer<String> log) {
        this.bind = Objects.requireNonNull(bind, "bind");
        this.throttle = Objects.requireNonNull(throttle, "throttle");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.status = Objects.requireNonNull(status, "status");
        this.log = Objects.requireNonNull(log, "log");
    }

    /**
     * Binds and starts serving.
     *
     * @throws IOException the address cannot be bound (in use, not local, unresolved), with a plain message
     */
    public synchronized void start() throws IOException {
        if (server != null) {
            throw new IllegalStateException("already started");
        }
        HttpServer s;
        try {
            s = HttpServer.create(bind, 16);
        } catch (IOException | UnresolvedAddressException | SecurityException e) {
            String why = e.getMessage() != null ? e.getMessage()
                    : e instanceof UnresolvedAddressException ? "cannot resolve host" : e.getClass().getSimpleName();
            throw new IOException("cannot listen for admin HTTP on " + show(bind) + ": " + why, e);
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService ex = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "tailwire-admin-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(ex);
        s.createContext("/", this::handle);
        s.start();
        server = s;
        executor = ex;
    }

    /** The bound port (useful with port 0). */
    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException("not started");
        }
        return server.getAddress().getPort();
    }

    /** Stops at once; requests in progress are cut off. Idempotent. */
    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
            server = null;
            executor = null;
        }
    }

    private static String show(InetSocketAddress a) {
        String host = a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    // ------------------------------------------------------------------ dispatch

    /** A request we refuse, with the status and the one-line reason to send. */
    private static final class Refusal extends Exception {
        final int code;

        Refusal(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            try {
                String path = x.getRequestURI().getRawPath();
                String method = x.getRequestMethod();
                switch (path == null ? "" : path) {
                    case "/throttle" -> throttle(x, method);
                    case "/metrics" -> {
                        allow(x, method, "GET");
                        params(x, Set.of());
                        send(x, 200, PROMETHEUS, metrics.scrape());
                    }
                    case "/status" -> {
                        allow(x, method, "GET");
                        params(x, Set.of());
                        send(x, 200, JSON, status());
                    }
                    default -> throw new Refusal(404, "not found: " + oneLine(path)
                            + " (try /status, /metrics or /throttle)");
                }
            } catch (Refusal r) {
                send(x, r.code, TEXT, oneLine(r.getMessage()) + "\n");
            } catch (RuntimeException e) {
                log.accept("admin: " + x.getRequestMethod() + " " + x.getRequestURI().getRawPath() + " failed: " + e);
                send(x, 500, TEXT, "internal error: " + oneLine(e.toString()) + "\n");
            }
        }
    }

    private static void allow(HttpExchange x, String method, String... allowed) throws Refusal {
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        x.getResponseHeaders().set("Allow", String.join(", ", allowed));
        throw new Refusal(405, "method " + oneLine(method) + " not allowed here; use " + String.join(" or ", allowed));
    }

    // ------------------------------------------------------------------ /throttle

    private void throttle(HttpExchange x, String method) throws Refusal, IOException {
        allow(x, method, "GET", "POST");
        if (method.equals("GET")) {
            Map<String, String> p = params(x, Set.of("agent"));
            String agent = p.get("agent");
            if (agent != null) {
                checkAgent(agent);
            }
            send(x, 200, JSON, throttleState(agent));
            return;
        }
        Map<String, String> p = params(x, Set.of("agent", "bytes_per_second"));
        String agent = p.get("agent");
        String rateText = p.get("bytes_per_second");
        if (rateText == null) {
            throw new Refusal(400, "missing bytes_per_second (N bytes per second, 0 = pause, -1 = unlimited)");
        }
        long rate;
        try {
            rate = Long.parseLong(rateText);
        } catch (NumberFormatException e) {
            throw new Refusal(400, "bytes_per_second must be an integer, not '" + oneLine(rateText) + "'");
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
        send(x, 200, JSON, throttleState(agent));
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

    // ------------------------------------------------------------------ plumbing

    /**
     * The request's parameters: the query, plus an application/x-www-form-urlencoded body (so
     * {@code curl -d bytes_per_second=0} works too). Unknown, repeated or badly encoded ones are refused.
     */
    private static Map<String, String> params(HttpExchange x, Set<String> known) throws Refusal, IOException {
        Map<String, String> out = new LinkedHashMap<>();
        parse(x.getRequestURI().getRawQuery(), known, out);
        byte[] body = readBody(x);
        if (body.length > 0) {
            String type = x.getRequestHeaders().getFirst("Content-Type");
            if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
                throw new Refusal(400, "a request body must be application/x-www-form-urlencoded");
            }
            parse(new String(body, StandardCharsets.UTF_8), known, out);
        }
        return out;
    }

    private static void parse(String raw, Set<String> known, Map<String, String> out) throws Refusal {
        if (raw == null || raw.isEmpty()) {
            return;
        }
        for (String part : raw.split("&", -1)) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String name;
            String value;
            try {
                name = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
                value = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new Refusal(400, "badly encoded parameter: " + oneLine(part));
            }
            if (!known.contains(name)) {
                throw new Refusal(400, "unknown parameter '" + oneLine(name) + "'"
                        + (known.isEmpty() ? " (this endpoint takes none)" : " (known: " + String.join(", ", known.stream().sorted().toList()) + ")"));
            }
            if (out.putIfAbsent(name, value) != null) {
                throw new Refusal(400, "parameter '" + name + "' given twice");
            }
        }
    }

    private static byte[] readBody(HttpExchange x) throws IOException, Refusal {
        InputStream in = x.getRequestBody();
        byte[] b = in.readNBytes(MAX_BODY + 1);
        if (b.length > MAX_BODY) {
            throw new Refusal(413, "request body larger than " + MAX_BODY + " bytes");
        }
        return b;
    }

    private static void send(HttpExchange x, int code, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", type);
        x.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = "HEAD".equals(x.getRequestMethod());
        x.sendResponseHeaders(code, head || bytes.length == 0 ? -1 : bytes.length);
        if (!head) {
            try (OutputStream o = x.getResponseBody()) {
                o.write(bytes);
            }
        }
    }

    /** Echoed input is cut to one short line so a reply can never be split or flooded. */
    static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), 200));
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        if (s.length() > 200) {
            b.append("...");
        }
        return b.toString();
    }
}
