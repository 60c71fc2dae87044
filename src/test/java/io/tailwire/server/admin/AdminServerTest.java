package io.tailwire.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.tailwire.http.Health;
import io.tailwire.http.MetricRegistry;
import io.tailwire.http.MiniJson;
import io.tailwire.server.limit.IngestThrottle;
import io.tailwire.server.status.PromText;
import io.tailwire.server.status.StatusSource;

class AdminServerTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final IngestThrottle throttle = new IngestThrottle(3);
    private final MetricRegistry metrics = new MetricRegistry(log -> { });
    private final AtomicReference<List<StatusSource.Agent>> agents = new AtomicReference<>(List.of());
    private final List<String> log = new CopyOnWriteArrayList<>();
    /** What /health and /ready report: null is well, anything else the reason for a 503. */
    private final AtomicReference<String> notLive = new AtomicReference<>();
    private final AtomicReference<String> notReady = new AtomicReference<>();
    private final Health health = new Health() {
        @Override
        public String notLive() {
            return notLive.get();
        }

        @Override
        public String notReady() {
            return notReady.get();
        }
    };
    private AdminServer server;
    private HttpClient client;

    @BeforeEach
    void start() throws IOException {
        metrics.register(CounterWithCallback.builder().name("tailwire_bytes_received_total")
                .help("Payload bytes received.").callback(c -> c.call(1234)).build());
        StatusSource status = () -> {
            List<StatusSource.Agent> a = agents.get();
            if (a == null) {
                throw new IllegalStateException("status unavailable");
            }
            return a;
        };
        AdminMetrics.registerThrottle(metrics, throttle);
        AdminMetrics.registerAgents(metrics, status);
        server = new AdminServer(LOOPBACK, throttle, metrics, status, health, log::add);
        server.start();
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> send(String method, String pathAndQuery) throws Exception {
        return send(method, pathAndQuery, null);
    }

    private HttpResponse<String> send(String method, String pathAndQuery, String formBody) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + pathAndQuery))
                .timeout(Duration.ofSeconds(20));
        if (formBody != null) {
            b.header("Content-Type", "application/x-www-form-urlencoded");
            b.method(method, HttpRequest.BodyPublishers.ofString(formBody));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertOneLinePlainText(HttpResponse<String> r, int code, String mentions) {
        assertEquals(code, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        String body = r.body();
        assertTrue(body.endsWith("\n") && body.indexOf('\n') == body.length() - 1, "one line: " + body);
        assertTrue(body.contains(mentions), body);
    }

    @Test
    void getThrottleShowsTheSettingsAndPostChangesThemAndAnswersWithTheNewState() throws Exception {
        Map<String, Object> s = MiniJson.object(send("GET", "/throttle").body());
        assertEquals(-1L, s.get("global_bytes_per_second"));
        assertEquals(List.of(), s.get("agents"));

        HttpResponse<String> r = send("POST", "/throttle?bytes_per_second=1000000");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertEquals(1_000_000L, MiniJson.object(r.body()).get("global_bytes_per_second"));
        assertEquals(1_000_000L, throttle.global());

        r = send("POST", "/throttle?agent=web-1&bytes_per_second=0");
        assertEquals(200, r.statusCode());
        s = MiniJson.object(r.body());
        assertEquals(List.of(Map.of("agent", "web-1", "bytes_per_second", 0L, "effective_bytes_per_second", 0L)),
                s.get("agents"));
        assertEquals(Map.of("agent", "web-1", "bytes_per_second", 0L, "effective_bytes_per_second", 0L), s.get("agent"));
        assertEquals(0, throttle.effective("web-1"));
        assertEquals(0, throttle.allowance("web-1", 5_000_000_000L));

        // an agent's setting above the global one has no effect beyond it
        send("POST", "/throttle?agent=db.2&bytes_per_second=5000000");
        s = MiniJson.object(send("GET", "/throttle?agent=db.2").body());
        assertEquals(Map.of("agent", "db.2", "bytes_per_second", 5_000_000L, "effective_bytes_per_second", 1_000_000L),
                s.get("agent"));
        // an agent without a setting, asked about, shows the global one
        s = MiniJson.object(send("GET", "/throttle?agent=other").body());
        assertEquals(Map.of("agent", "other", "bytes_per_second", -1L, "effective_bytes_per_second", 1_000_000L),
                s.get("agent"));

        // -1 removes an agent's setting
        assertEquals(200, send("POST", "/throttle?agent=web-1&bytes_per_second=-1").statusCode());
        assertEquals(-1, throttle.agent("web-1"));
        assertEquals(200, send("POST", "/throttle?bytes_per_second=-1").statusCode());
        assertEquals(-1, throttle.global());
        assertTrue(log.contains("admin: server-wide ingest rate set to 1000000 bytes/s"), log.toString());
        assertTrue(log.contains("admin: ingest rate of agent web-1 set to 0 (paused)"), log.toString());
    }

    @Test
    void badThrottleParametersGet400WithAOneLineReasonAndChangeNothing() throws Exception {
        throttle.setGlobal(777);
        assertOneLinePlainText(send("POST", "/throttle"), 400, "missing bytes_per_second");
        assertOneLinePlainText(send("POST", "/throttle?bytes_per_second=fast"), 400, "must be an integer");
        assertOneLinePlainText(send("POST", "/throttle?bytes_per_second="), 400, "must be an integer");
        assertOneLinePlainText(send("POST", "/throttle?bytes_per_second=-2"), 400, "-1 (unlimited), 0 (pause)");
        assertOneLinePlainText(send("POST", "/throttle?bytes_per_second=99999999999999999999"), 400, "integer");
        assertOneLinePlainText(send("POST", "/throttle?bytes_per_second=" + (IngestThrottle.MAX_RATE + 1)), 400,
                "1.." + IngestThrottle.MAX_RATE);
        assertOneLinePlainText(send("POST", "/throttle?bytes_per_second=1&rate=2"), 400, "unknown parameter 'rate'");
        assertOneLinePlainText(send("POST", "/throttle?bytes_per_second=1&bytes_per_second=2"), 400, "given twice");
        assertOneLinePlainText(send("POST", "/throttle?bytes_per_second=1&agent=a%2Fb"), 400, "agent must match");
        assertOneLinePlainText(send("POST", "/throttle?bytes_per_second=1&agent="), 400, "agent must match");
        String status = raw("POST /throttle?bytes_per_second=%zz HTTP/1.1\r\nHost: 127.0.0.1:" + server.port()
                + "\r\nConnection: close\r\n\r\n");
        assertTrue(status.contains(" 400 "), status);
        assertOneLinePlainText(send("POST", "/throttle?bytes_per_second=1%0Aevil"), 400, "1?evil");
        assertOneLinePlainText(send("GET", "/throttle?agent=.."), 400, "agent must match");
        assertOneLinePlainText(send("POST", "/throttle?%7B%22bytes_per_second%22:1%7D"), 400, "unknown parameter");
        assertEquals(777, throttle.global());
        assertEquals(0, throttle.agentLimits());

        for (String id : List.of("a", "b", "c")) {
            assertEquals(200, send("POST", "/throttle?agent=" + id + "&bytes_per_second=5").statusCode());
        }
        assertOneLinePlainText(send("POST", "/throttle?agent=d&bytes_per_second=5"), 400, "too many per-agent limits");
    }

    @Test
    void aFormPostAsAnHtmlPageWouldSendItIsRefusedWith415AndPausesNothing() throws Exception {
        // a form on any web page: <form method=post action="http://127.0.0.1:PORT/throttle?bytes_per_second=0">
        // sends a Content-Type (form-encoded, multipart or text/plain) and no Origin in some browsers
        for (String type : List.of("application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                "text/plain")) {
            HttpRequest req = HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + server.port() + "/throttle?bytes_per_second=0"))
                    .header("Content-Type", type)
                    .POST(HttpRequest.BodyPublishers.ofString("")).build(); // the form has no fields
            assertOneLinePlainText(client.send(req, HttpResponse.BodyHandlers.ofString()), 415, "query string");
        }
        assertOneLinePlainText(send("POST", "/throttle", "bytes_per_second=0"), 415, "query string");
        // a body without a Content-Type is refused too
        HttpRequest bare = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/throttle"))
                .POST(HttpRequest.BodyPublishers.ofString("bytes_per_second=0")).build();
        assertOneLinePlainText(client.send(bare, HttpResponse.BodyHandlers.ofString()), 415, "no body");
        assertEquals(-1, throttle.global());
    }

    @Test
    void aCrossOriginRequestIsRefusedWith403AndPausesNothing() throws Exception {
        for (String origin : List.of("http://evil.example", "null", "https://127.0.0.1:" + server.port(),
                "http://127.0.0.1:" + (server.port() == 65535 ? 1 : server.port() + 1))) {
            HttpRequest req = HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + server.port() + "/throttle?bytes_per_second=0"))
                    .header("Origin", origin)
                    .POST(HttpRequest.BodyPublishers.noBody()).build();
            assertOneLinePlainText(client.send(req, HttpResponse.BodyHandlers.ofString()), 403, "cross-origin");
        }
        assertEquals(-1, throttle.global());
        // the endpoint's own origin (a page it served, were there one) is allowed
        HttpRequest own = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/throttle?bytes_per_second=0"))
                .header("Origin", "http://localhost:" + server.port())
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        assertEquals(200, client.send(own, HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(0, throttle.global());
    }

    /** Sends {@code request} on a fresh raw connection and returns the status line. */
    private String raw(String request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            String line = r.readLine();
            return line == null ? "" : line;
        }
    }

    @Test
    void aHostHeaderNamingAnotherHostIsRefusedWith403SoDnsRebindingFails() throws Exception {
        int port = server.port();
        // DNS rebinding: evil.example now resolves to 127.0.0.1, and the browser sends Host: evil.example
        for (String host : List.of("evil.example:" + port, "evil.example", "127.0.0.1:" + (port == 65535 ? 1 : port + 1),
                "127.0.0.1", "localhost.evil.example:" + port, "10.0.0.1:" + port)) {
            String status = raw("POST /throttle?bytes_per_second=0 HTTP/1.1\r\nHost: " + host
                    + "\r\nConnection: close\r\n\r\n");
            assertTrue(status.contains(" 403 "), host + " -> " + status);
        }
        assertTrue(raw("GET /metrics HTTP/1.0\r\n\r\n").contains(" 403 "), "a request without Host is refused");
        assertEquals(-1, throttle.global());
        for (String host : List.of("127.0.0.1:" + port, "localhost:" + port, "LocalHost:" + port)) {
            String status = raw("GET /metrics HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
            assertTrue(status.contains(" 200 "), host + " -> " + status);
        }
    }

    @Test
    void halfSentRequestsAreCutOffAndDoNotKeepMetricsFromAnotherClient() throws Exception {
        server.close();
        server = new AdminServer(LOOPBACK, throttle, metrics, StatusSource.NONE, health, log::add, 300);
        server.start();
        List<Socket> slow = new ArrayList<>();
        try {
            // more half-sent requests than there are handler threads, each stopping mid-header
            for (int i = 0; i < AdminServer.HANDLER_THREADS + 2; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port());
                s.setSoTimeout(20_000);
                s.getOutputStream().write("GET /metr".getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                slow.add(s);
            }
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                    .timeout(Duration.ofSeconds(20)).GET().build();
            assertEquals(200, client.send(req, HttpResponse.BodyHandlers.ofString()).statusCode());
            // and each slow connection was closed by the server, not left holding a thread
            for (Socket s : slow) {
                int got;
                try {
                    got = s.getInputStream().read();
                } catch (java.net.SocketException reset) {
                    got = -1;
                }
                assertEquals(-1, got, "the server closed the half-sent request's connection");
            }
        } finally {
            for (Socket s : slow) {
                s.close();
            }
        }
    }

    @Test
    void onlyALoopbackBindIsFreeOfTheExposureWarning() {
        assertEquals(null, AdminServer.exposureWarning(new InetSocketAddress(InetAddress.getLoopbackAddress(), 7071)));
        assertEquals(null, AdminServer.exposureWarning(new InetSocketAddress("::1", 7071)));
        String w = AdminServer.exposureWarning(new InetSocketAddress("0.0.0.0", 7071));
        assertTrue(w != null && w.contains("0.0.0.0:7071") && w.contains("no authentication") && !w.contains("\n"), w);
        assertTrue(AdminServer.exposureWarning(new InetSocketAddress("192.0.2.1", 7071)) != null);
    }

    @Test
    void wrongMethodsGet405WithAllowAndUnknownPaths404() throws Exception {
        HttpResponse<String> r = send("DELETE", "/throttle");
        assertOneLinePlainText(r, 405, "not allowed");
        assertEquals("GET, POST", r.headers().firstValue("Allow").orElse(""));
        r = send("POST", "/metrics");
        assertOneLinePlainText(r, 405, "not allowed");
        assertEquals("GET", r.headers().firstValue("Allow").orElse(""));
        assertOneLinePlainText(send("PUT", "/status"), 405, "not allowed");
        assertOneLinePlainText(send("GET", "/"), 404, "not found");
        assertOneLinePlainText(send("GET", "/throttle/"), 404, "not found");
        assertOneLinePlainText(send("GET", "/metricsx"), 404, "not found");
        assertOneLinePlainText(send("GET", "/status?verbose=1"), 400, "unknown parameter");
    }

    @Test
    void metricsAreServedInPrometheusTextFormat() throws Exception {
        throttle.setGlobal(5000);
        throttle.setAgent("web-1", 10);
        agents.set(List.of(new StatusSource.Agent("a1", true, "10.0.0.1:4000", Instant.EPOCH,
                Instant.ofEpochSecond(1_700_000_000L), 65536, 99,
                List.of(new StatusSource.Stream("/var/log/x", 1, 100, 60), new StatusSource.Stream("/y", 2, 5, 5)))));
        HttpResponse<String> r = send("GET", "/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        Map<String, PromText.Family> f = PromText.parse(r.body());
        assertEquals(1234.0, f.get("tailwire_bytes_received_total").samples().get(0).value());
        assertEquals(5000.0, f.get("tailwire_throttle_global_bytes_per_second").samples().get(0).value());
        PromText.Sample agent = f.get("tailwire_throttle_agent_bytes_per_second").samples().get(0);
        assertEquals(Map.of("agent", "web-1"), agent.labels());
        assertEquals(10.0, agent.value());
        assertEquals(65536.0, f.get("tailwire_agent_window_bytes").samples().get(0).value());
        assertEquals(99.0, f.get("tailwire_agent_received_bytes_total").samples().get(0).value());
        assertEquals(40.0, f.get("tailwire_agent_unsynced_bytes").samples().get(0).value());
        assertEquals(2.0, f.get("tailwire_agent_streams").samples().get(0).value());
        assertEquals(1.0, f.get("tailwire_agent_connected").samples().get(0).value());
        assertEquals(1.7e9, f.get("tailwire_agent_last_seen_seconds").samples().get(0).value());
    }

    @Test
    void statusListsAgentsAndStreamsAsJsonWithEscapedStrings() throws Exception {
        String weirdPath = "/var/log/\"quoted\"\\back\nnew\u0001line\u2028é😀";
        throttle.setGlobal(2000);
        throttle.setAgent("a1", 500);
        agents.set(List.of(
                new StatusSource.Agent("a1", true, "[::1]:5000", Instant.parse("2026-11-27T20:00:00Z"),
                        Instant.parse("2026-11-27T20:01:02.5Z"), 131072, 4096,
                        List.of(new StatusSource.Stream(weirdPath, 3, 4096, 1024))),
                new StatusSource.Agent("a2", false, null, null, null, -1, 0, List.of())));
        HttpResponse<String> r = send("GET", "/status");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        Map<String, Object> s = MiniJson.object(r.body());
        List<?> list = (List<?>) s.get("agents");
        assertEquals(2, list.size());
        Map<?, ?> a1 = (Map<?, ?>) list.get(0);
        assertEquals("a1", a1.get("agent"));
        assertEquals(true, a1.get("connected"));
        assertEquals("[::1]:5000", a1.get("remote_address"));
        assertEquals("2026-11-27T20:00:00Z", a1.get("connected_since"));
        assertEquals("2026-11-27T20:01:02.500Z", a1.get("last_seen"));
        assertEquals(131072L, a1.get("window"));
        assertEquals(4096L, a1.get("bytes_received"));
        assertEquals(500L, a1.get("throttle_bytes_per_second"));
        assertEquals(List.of(Map.of("path", weirdPath, "generation", 3L, "held", 4096L, "durable", 1024L)),
                a1.get("streams"));
        Map<?, ?> a2 = (Map<?, ?>) list.get(1);
        assertEquals(false, a2.get("connected"));
        assertTrue(a2.containsKey("remote_address") && a2.get("remote_address") == null);
        assertTrue(a2.containsKey("last_seen") && a2.get("last_seen") == null);
        assertEquals(2000L, a2.get("throttle_bytes_per_second"));
        assertEquals(2000L, s.get("global_throttle_bytes_per_second"));
    }

    @Test
    void aFailingStatusSourceGives500AndTheServerKeepsServing() throws Exception {
        agents.set(null);
        assertOneLinePlainText(send("GET", "/status"), 500, "status unavailable");
        // the metrics families fed by the same source are left out (Prometheus' client writes nothing for a
        // family without samples; the hand-written writer wrote its HELP and TYPE), the rest still there
        Map<String, PromText.Family> f = PromText.parse(send("GET", "/metrics").body());
        assertTrue(!f.containsKey("tailwire_agent_connected"), f.keySet().toString());
        assertEquals(1, f.get("tailwire_bytes_received_total").samples().size());
        agents.set(List.of());
        assertEquals(200, send("GET", "/status").statusCode());
        assertTrue(log.stream().anyMatch(l -> l.contains("status unavailable")), log.toString());
    }

    @Test
    void bindingAnAddressInUseFailsWithAPlainIOException() {
        AdminServer second = new AdminServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()),
                throttle, metrics, StatusSource.NONE, health);
        IOException e = assertThrows(IOException.class, second::start);
        assertTrue(e.getMessage().startsWith("cannot listen for admin HTTP on ")
                && e.getMessage().contains(":" + server.port() + ": ") && !e.getMessage().contains("\n"), e.getMessage());
        AdminServer unresolved = new AdminServer(InetSocketAddress.createUnresolved("no-such-host.invalid", 0),
                throttle, metrics, StatusSource.NONE, health);
        e = assertThrows(IOException.class, unresolved::start);
        assertTrue(e.getMessage().startsWith("cannot listen for admin HTTP on no-such-host.invalid:0"), e.getMessage());
        second.close(); // closing a server that never started is harmless
    }

    @Test
    void healthAndReadyAnswer200OkWhileWellAnd503WithTheOneLineReasonOtherwise() throws Exception {
        for (String path : List.of("/health", "/ready")) {
            HttpResponse<String> r = send("GET", path);
            assertEquals(200, r.statusCode(), path);
            assertEquals("ok\n", r.body(), path);
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            assertEquals(200, send("HEAD", path).statusCode(), "a probe may use HEAD: " + path);
        }
        // Each probe reports its own condition: a server can be alive and not ready (stopping, disk full).
        notReady.set("storage refuses writes (disk full or I/O error) for 2 connection(s)");
        assertOneLinePlainText(send("GET", "/ready"), 503, "storage refuses writes");
        assertEquals(200, send("GET", "/health").statusCode());
        notReady.set("stopping");
        assertOneLinePlainText(send("GET", "/ready"), 503, "stopping");
        assertEquals(503, send("HEAD", "/ready").statusCode());
        notLive.set("server engine thread died: java.lang.OutOfMemoryError\nsecond line");
        // the reason is cut to one line, so a probe's log gets one line per failure
        assertOneLinePlainText(send("GET", "/health"), 503, "engine thread died: java.lang.OutOfMemoryError?second");
        notLive.set(null);
        notReady.set(null);
        assertEquals("ok\n", send("GET", "/ready").body());
    }

    @Test
    void healthAndReadyKeepTheEndpointsProtections() throws Exception {
        notLive.set("dead");
        int port = server.port();
        // A page elsewhere must not learn the server's state either: Host and Origin are checked first.
        String status = raw("GET /health HTTP/1.1\r\nHost: evil.example:" + port + "\r\nConnection: close\r\n\r\n");
        assertTrue(status.contains(" 403 "), status);
        HttpRequest crossOrigin = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
                .header("Origin", "http://evil.example").GET().build();
        assertOneLinePlainText(client.send(crossOrigin, HttpResponse.BodyHandlers.ofString()), 403, "cross-origin");
        assertOneLinePlainText(send("POST", "/health"), 405, "not allowed");
        assertOneLinePlainText(send("POST", "/ready", "x=1"), 415, "no body");
        assertOneLinePlainText(send("GET", "/ready?verbose=1"), 400, "unknown parameter");
    }

    @Test
    void concurrentRequestsAreAllAnswered() throws Exception {
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String path = i % 2 == 0 ? "/metrics" : "/throttle?agent=a&bytes_per_second=" + i;
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                    .timeout(Duration.ofSeconds(30))
                    .method(i % 2 == 0 ? "GET" : "POST", HttpRequest.BodyPublishers.noBody()).build();
            fs.add(client.sendAsync(req, HttpResponse.BodyHandlers.ofString()));
        }
        for (var f : fs) {
            assertEquals(200, f.get().statusCode());
        }
        assertTrue(throttle.agent("a") > 0 && throttle.agent("a") % 2 == 1);
    }
}
