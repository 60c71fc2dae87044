package io.tailwire.server.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.net.URLDecoder;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import io.tailwire.http.Health;
import io.tailwire.http.MetricRegistry;
import io.tailwire.server.limit.IngestThrottle;
import io.tailwire.server.status.StatusSource;

/**
 * The operator's HTTP endpoint ({@code --admin HOST:PORT}), on the JDK's built-in HTTP server:
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
 * Requests run on two daemon threads of their own and only read published state, so the admin
 * endpoint never blocks the engine. It has no authentication: bind it to a trusted interface.
 * <p>
 * Because any web page the operator opens can send requests to it, every request is checked
 * before it is served: the {@code Host} header must name this endpoint (403 otherwise: DNS
 * rebinding), an {@code Origin} header must be this endpoint's own origin (403 otherwise:
 * cross-site requests), and parameters come only in the query string (a request with a body or a
 * {@code Content-Type} gets 415: an HTML form cannot be made without one). A request that is not
 * completely read, handled and answered within {@link #DEFAULT_REQUEST_TIMEOUT_MS} is cut off, so
 * slow or half-sent requests cannot hold the handler threads.
 */
public final class AdminServer implements AutoCloseable {
    /** How long one request may take, from its first byte read to its last byte written, in milliseconds. */
    public static final long DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
    /** Threads serving requests; each request holds one for at most the request timeout. */
    static final int HANDLER_THREADS = 2;
    /** Names a loopback-bound endpoint answers to besides its own address. */
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "localhost.");
    private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final String JSON = "application/json; charset=utf-8";
    private static final String TEXT = "text/plain; charset=utf-8";

    private final InetSocketAddress bind;
    private final IngestThrottle throttle;
    private final MetricRegistry metrics;
    private final StatusSource status;
    private final Health health;
    private final Consumer<String> log;
    private final long requestTimeoutMs;
    private HttpServer server;
    private ExecutorService executor;
    private ScheduledExecutorService watchdog;

    public AdminServer(InetSocketAddress bind, IngestThrottle throttle, MetricRegistry metrics, StatusSource status,
                       Health health) {
        this(bind, throttle, metrics, status, health, s -> { });
    }

    /** {@code log} receives one line per setting changed, and handler failures. */
    public AdminServer(InetSocketAddress bind, IngestThrottle throttle, MetricRegistry metrics, StatusSource status,
                       Health health, Consumer<String> log) {
        this(bind, throttle, metrics, status, health, log, DEFAULT_REQUEST_TIMEOUT_MS);
    }

    /** {@code requestTimeoutMs}: how long one request may hold a handler thread (tests use a short one). */
    AdminServer(InetSocketAddress bind, IngestThrottle throttle, MetricRegistry metrics, StatusSource status,
                Health health, Consumer<String> log, long requestTimeoutMs) {
        if (requestTimeoutMs <= 0) {
            throw new IllegalArgumentException("request timeout must be positive, not " + requestTimeoutMs + " ms");
        }
        this.requestTimeoutMs = requestTimeoutMs;
        this.bind = Objects.requireNonNull(bind, "bind");
        this.throttle = Objects.requireNonNull(throttle, "throttle");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.status = Objects.requireNonNull(status, "status");
        this.health = Objects.requireNonNull(health, "health");
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
        ExecutorService ex = Executors.newFixedThreadPool(HANDLER_THREADS, r -> {
            Thread t = new Thread(r, "tailwire-admin-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        ScheduledExecutorService dog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tailwire-admin-timeout");
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(bounded(ex, dog, requestTimeoutMs));
        s.createContext("/", this::handle);
        s.start();
        server = s;
        executor = ex;
        watchdog = dog;
    }

    /**
     * The JDK server reads a request's line, headers and body on the executor's thread, with
     * blocking reads and no timeout of its own. Each task is interrupted once it has run for
     * {@code timeoutMs}: a thread blocked on the socket channel then gets ClosedByInterruptException,
     * the JDK closes that connection and the thread is free for the next request.
     */
    private static Executor bounded(ExecutorService pool, ScheduledExecutorService dog, long timeoutMs) {
        return task -> pool.execute(() -> {
            Thread self = Thread.currentThread();
            Object lock = new Object();
            boolean[] running = {true};
            var cut = dog.schedule(() -> {
                synchronized (lock) {
                    if (running[0]) {
                        self.interrupt();
                    }
                }
            }, timeoutMs, TimeUnit.MILLISECONDS);
            try {
                task.run();
            } finally {
                cut.cancel(false);
                synchronized (lock) {
                    running[0] = false;
                    Thread.interrupted(); // an interrupt meant for this task must not hit the next one
                }
            }
        });
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
        return "admin endpoint on " + show(bind) + " is reachable from other hosts and has no authentication: "
                + "anyone who can connect can read /status and /metrics and pause ingest with POST /throttle; "
                + "bind it to 127.0.0.1 unless a firewall allows only trusted hosts";
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
            watchdog.shutdownNow();
            server = null;
            executor = null;
            watchdog = null;
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
                checkHostAndOrigin(x);
                refuseBody(x);
                switch (path == null ? "" : path) {
                    case "/throttle" -> throttle(x, method);
                    case "/metrics" -> {
                        allow(x, method, "GET");
                        params(x, Set.of());
                        metrics(x);
                    }
                    case "/status" -> {
                        allow(x, method, "GET");
                        params(x, Set.of());
                        send(x, 200, JSON, status());
                    }
                    case "/health" -> probe(x, method, health.notLive());
                    case "/ready" -> probe(x, method, health.notReady());
                    default -> throw new Refusal(404, "not found: " + oneLine(path)
                            + " (try /status, /metrics, /throttle, /health or /ready)");
                }
            } catch (Refusal r) {
                send(x, r.code, TEXT, oneLine(r.getMessage()) + "\n");
            } catch (RuntimeException e) {
                log.accept("admin: " + x.getRequestMethod() + " " + x.getRequestURI().getRawPath() + " failed: " + e);
                send(x, 500, TEXT, "internal error: " + oneLine(e.toString()) + "\n");
            }
        }
    }

    /**
     * /health and /ready: 200 "ok", or 503 with the one-line reason. HEAD too, so a probe that only looks
     * at the status need not read a body.
     */
    private static void probe(HttpExchange x, String method, String problem) throws Refusal, IOException {
        allow(x, method, "GET", "HEAD");
        params(x, Set.of());
        if (problem == null) {
            send(x, 200, TEXT, "ok\n");
        } else {
            send(x, 503, TEXT, oneLine(problem) + "\n");
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

    // ------------------------------------------------------------------ /metrics

    /** Scraped into memory first, so a failure gives a clean 500 rather than a cut-off 200. */
    private void metrics(HttpExchange x) throws IOException {
        String accept = x.getRequestHeaders().getFirst("Accept");
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream(16384);
        metrics.write(body, accept);
        send(x, 200, metrics.contentType(accept), body.toByteArray());
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

    /** The request's parameters, from the query only. Unknown, repeated or badly encoded ones are refused. */
    private static Map<String, String> params(HttpExchange x, Set<String> known) throws Refusal {
        Map<String, String> out = new LinkedHashMap<>();
        parse(x.getRequestURI().getRawQuery(), known, out);
        return out;
    }

    // ------------------------------------------------------------------ request checks

    /**
     * Refuses (403) a request whose Host does not name this endpoint, or whose Origin is not this
     * endpoint's own. A web page can make the operator's browser send requests here, and DNS
     * rebinding can make one look same-origin to the browser; neither can choose these headers.
     */
    private void checkHostAndOrigin(HttpExchange x) throws Refusal {
        List<String> hosts = x.getRequestHeaders().get("Host");
        if (hosts == null || hosts.size() != 1) {
            throw new Refusal(403, "a request needs exactly one Host header naming this endpoint");
        }
        if (!isThisEndpoint(hosts.get(0), x.getLocalAddress())) {
            throw new Refusal(403, "Host '" + oneLine(hosts.get(0)) + "' does not name this admin endpoint "
                    + "(use the address it is bound to" + (x.getLocalAddress().getAddress().isLoopbackAddress()
                    ? ", or localhost" : "") + ")");
        }
        List<String> origins = x.getRequestHeaders().get("Origin");
        if (origins == null) {
            return; // not sent by a browser on behalf of another page (browsers send Origin on cross-origin requests)
        }
        for (String origin : origins) {
            String o = origin.trim();
            if (!o.toLowerCase(Locale.ROOT).startsWith("http://")
                    || !isThisEndpoint(o.substring("http://".length()), x.getLocalAddress())) {
                throw new Refusal(403, "cross-origin request from '" + oneLine(origin) + "' refused");
            }
        }
    }

    /**
     * Whether {@code hostPort} (a Host header, or an origin without its scheme) names this endpoint:
     * the port must be ours (80 when absent) and the host the name or address given to bind, the
     * address the connection arrived on, or, on loopback, localhost / 127.0.0.1 / [::1].
     */
    private boolean isThisEndpoint(String hostPort, InetSocketAddress local) {
        String hp = hostPort.trim().toLowerCase(Locale.ROOT);
        String host;
        String portText;
        if (hp.startsWith("[")) {
            int close = hp.indexOf(']');
            if (close < 0) {
                return false;
            }
            host = hp.substring(0, close + 1);
            String rest = hp.substring(close + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                return false;
            }
            portText = rest.isEmpty() ? null : rest.substring(1);
        } else {
            int colon = hp.indexOf(':');
            host = colon < 0 ? hp : hp.substring(0, colon);
            portText = colon < 0 ? null : hp.substring(colon + 1);
        }
        int port;
        try {
            port = portText == null ? 80 : Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            return false;
        }
        if (port != local.getPort() || host.isEmpty()) {
            return false;
        }
        if (host.equals(bind.getHostString().toLowerCase(Locale.ROOT))) {
            return true; // the name the operator gave --admin
        }
        boolean loopback = local.getAddress().isLoopbackAddress();
        if (loopback && LOOPBACK_NAMES.contains(host)) {
            return true;
        }
        InetAddress literal = literal(host);
        if (literal == null) {
            return false;
        }
        return literal.equals(local.getAddress()) || literal.equals(bind.getAddress())
                || (loopback && literal.isLoopbackAddress());
    }

    /** An IP literal ("1.2.3.4" or "[v6]") as an address, or null; never looks a name up. */
    private static InetAddress literal(String host) {
        if (!(host.startsWith("[") && host.endsWith("]")) && !IPV4_LITERAL.matcher(host).matches()) {
            return null;
        }
        try {
            return InetAddress.getByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
        } catch (UnknownHostException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Refuses (415) any request with a body or a Content-Type: parameters go in the query string.
     * An HTML form always sends a Content-Type (form-encoded, multipart or text/plain), so a page
     * cannot post to /throttle; a script can send none only with a same-origin Origin.
     */
    private static void refuseBody(HttpExchange x) throws Refusal {
        String type = x.getRequestHeaders().getFirst("Content-Type");
        String length = x.getRequestHeaders().getFirst("Content-Length");
        boolean body = x.getRequestHeaders().containsKey("Transfer-Encoding")
                || (length != null && !length.trim().equals("0"));
        if (type != null || body) {
            throw new Refusal(415, "requests take no body" + (type == null ? "" : " (got " + oneLine(type) + ")")
                    + "; put the parameters in the query string, e.g. POST /throttle?bytes_per_second=N");
        }
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

    private static void send(HttpExchange x, int code, String type, String body) throws IOException {
        send(x, code, type, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange x, int code, String type, byte[] bytes) throws IOException {
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
