package io.tailwire.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * An admin HTTP endpoint ({@code --admin HOST:PORT} of the server and of the agent) on the JDK's built-in
 * HTTP server: the routes are the owner's, the protections are here, so both endpoints have the same.
 * <p>
 * Because any web page the operator opens can send requests to it, every request is checked before it is
 * routed: the {@code Host} header must name this endpoint (403 otherwise: DNS rebinding), an {@code Origin}
 * header must be this endpoint's own origin (403 otherwise: cross-site requests), and parameters come only in
 * the query string (a request with a body or a {@code Content-Type} gets 415: an HTML form cannot be made
 * without one). A request that is not completely read, handled and answered within the request timeout is
 * cut off, so slow or half-sent requests cannot hold the handler threads. Unknown paths get 404, a handler's
 * {@link Refusal} its status with a one-line plain-text reason, a handler's RuntimeException 500.
 * Requests run on {@link #HANDLER_THREADS} daemon threads of their own. No authentication: bind it to a
 * trusted interface.
 */
public final class HttpEndpoint implements AutoCloseable {
    /** Threads serving requests; each request holds one for at most the request timeout. */
    public static final int HANDLER_THREADS = 2;
    /** Names a loopback-bound endpoint answers to besides its own address. */
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "localhost.");
    private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    public static final String JSON = "application/json; charset=utf-8";
    public static final String TEXT = "text/plain; charset=utf-8";

    /** Serves one path. */
    @FunctionalInterface
    public interface Handler {
        void handle(Request request) throws Refusal, IOException;
    }

    /** A request we refuse, with the status and the one-line reason to send. */
    public static final class Refusal extends Exception {
        final int code;

        public Refusal(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    /** One request that passed the checks, for a {@link Handler}. */
    public static final class Request {
        private final HttpExchange x;

        Request(HttpExchange x) {
            this.x = x;
        }

        public String method() {
            return x.getRequestMethod();
        }

        /** The first value of a request header, or null. */
        public String header(String name) {
            return x.getRequestHeaders().getFirst(name);
        }

        /** Refuses (405, with Allow) a method not in {@code allowed}. */
        public void allow(String... allowed) throws Refusal {
            String method = method();
            for (String a : allowed) {
                if (a.equals(method)) {
                    return;
                }
            }
            x.getResponseHeaders().set("Allow", String.join(", ", allowed));
            throw new Refusal(405, "method " + oneLine(method) + " not allowed here; use "
                + String.join(" or ", allowed));
        }

        /** The request's parameters, from the query only. Unknown, repeated or badly encoded ones are refused. */
        public Map<String, String> params(Set<String> known) throws Refusal {
            Map<String, String> out = new LinkedHashMap<>();
            parse(x.getRequestURI().getRawQuery(), known, out);
            return out;
        }

        /** Refuses a method not in {@code allowed} (405) and any parameter (400). */
        public void only(String... allowed) throws Refusal {
            allow(allowed);
            params(Set.of());
        }

        public void send(int code, String type, String body) throws IOException {
            send(code, type, body.getBytes(StandardCharsets.UTF_8));
        }

        public void send(int code, String type, byte[] bytes) throws IOException {
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
    }

    private final InetSocketAddress bind;
    private final Map<String, Handler> routes;
    private final Consumer<String> log;
    private final long requestTimeoutMs;
    private HttpServer server;
    private ExecutorService executor;
    private ScheduledExecutorService watchdog;

    /**
     * @param routes           path to handler (exact match), in the order a 404 lists them
     * @param log              receives handler failures
     * @param requestTimeoutMs how long one request may hold a handler thread
     */
    public HttpEndpoint(InetSocketAddress bind, Map<String, Handler> routes, Consumer<String> log,
                        long requestTimeoutMs) {
        if (requestTimeoutMs <= 0) {
            throw new IllegalArgumentException("request timeout must be positive, not " + requestTimeoutMs + " ms");
        }
        this.bind = Objects.requireNonNull(bind, "bind");
        this.routes = new LinkedHashMap<>(routes);
        this.log = Objects.requireNonNull(log, "log");
        this.requestTimeoutMs = requestTimeoutMs;
    }

    // ------------------------------------------------------------------ shared routes

    /**
     * {@code /health} and {@code /ready}: 200 "ok", or 503 with the one-line reason. HEAD too, so a probe
     * that only looks at the status need not read a body.
     */
    public static Map<String, Handler> healthRoutes(Health health) {
        Objects.requireNonNull(health, "health");
        Map<String, Handler> m = new LinkedHashMap<>();
        m.put("/health", r -> probe(r, health.notLive()));
        m.put("/ready", r -> probe(r, health.notReady()));
        return m;
    }

    private static void probe(Request r, String problem) throws Refusal, IOException {
        r.only("GET", "HEAD");
        if (problem == null) {
            r.send(200, TEXT, "ok\n");
        } else {
            r.send(503, TEXT, oneLine(problem) + "\n");
        }
    }

    /**
     * {@code /metrics}: one scrape, in the format the Accept header asks for. Scraped into memory first,
     * so a failure gives a clean 500 rather than a cut-off 200.
     */
    public static Handler metricsRoute(MetricRegistry metrics) {
        Objects.requireNonNull(metrics, "metrics");
        return r -> {
            r.only("GET");
            String accept = r.header("Accept");
            ByteArrayOutputStream body = new ByteArrayOutputStream(16384);
            metrics.write(body, accept);
            r.send(200, metrics.contentType(accept), body.toByteArray());
        };
    }

    // ------------------------------------------------------------------ lifecycle

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

    /** "host:port", with brackets around an IPv6 host. */
    public static String show(InetSocketAddress a) {
        String host = a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    // ------------------------------------------------------------------ dispatch

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            try {
                String path = x.getRequestURI().getRawPath();
                checkHostAndOrigin(x);
                refuseBody(x);
                Handler h = routes.get(path == null ? "" : path);
                if (h == null) {
                    throw new Refusal(404, "not found: " + oneLine(path) + " (try "
                        + String.join(", ", routes.keySet()) + ")");
                }
                h.handle(new Request(x));
            } catch (Refusal r) {
                new Request(x).send(r.code, TEXT, oneLine(r.getMessage()) + "\n");
            } catch (RuntimeException e) {
                log.accept("admin: " + x.getRequestMethod() + " " + x.getRequestURI().getRawPath() + " failed: " + e);
                new Request(x).send(500, TEXT, "internal error: " + oneLine(e.toString()) + "\n");
            }
        }
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
     * cannot post to the endpoint; a script can send none only with a same-origin Origin.
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

    /** Echoed input is cut to one short line so a reply can never be split or flooded. */
    public static String oneLine(String s) {
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
