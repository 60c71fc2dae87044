package io.tailwire.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;

import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.http.MetricRegistry;
import io.tailwire.http.MiniJson;
import io.tailwire.io.RealFs;
import io.tailwire.log.Log;
import io.tailwire.server.status.PromText;
import io.tailwire.server.store.OutputStore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's own admin endpoint, over real HTTP against an agent running in this JVM: per-file bytes read,
 * durable and lag in /metrics and /status (lag is what was appended while the server was down, and returns to
 * 0 once a server is back),
 * /health and /ready (not ready without a server), and the server endpoint's Host/Origin/body checks.
 */
class AgentAdminTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final long SEED = 1803;
    /** Generous: only bounds how long a broken agent makes the test wait. */
    private static final int AWAIT_MS = 60_000;

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    private static UdpAgent agent(InetSocketAddress server, Path src, Path state) throws Exception {
        return new UdpAgent(server, AgentConnectionConfig.defaults("a1"), TailerConfig.of(List.of(src.toString())),
            RealFs.INSTANCE, state, new PollBackoff(), SEED, 0, new Log("agent"));
    }

    /** The file's sample of {@code family}, or -1 if absent. */
    private static double fileSample(Map<String, PromText.Family> f, String family, String path) {
        PromText.Family fam = f.get(family);
        if (fam == null) {
            return -1;
        }
        for (PromText.Sample s : fam.samples()) {
            if (s.labels().equals(Map.of("path", path, "generation", "1"))) {
                return s.value();
            }
        }
        return -1;
    }

    /** Polls /metrics until {@code cond} holds on the parsed scrape; returns it. */
    private static Map<String, PromText.Family> awaitMetrics(int admin, Predicate<Map<String, PromText.Family>> cond,
                                                             String what) throws Exception {
        String text = "";
        for (int waited = 0; waited < AWAIT_MS; waited += 50) {
            text = get(admin, "/metrics").body();
            Map<String, PromText.Family> f = PromText.parse(text);
            if (cond.test(f)) {
                return f;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting for " + what + "; last scrape:\n" + text);
    }

    @Test
    void perFileReadDurableAndLagAreServedAndLagIsWhatTheServerHasNotMadeDurable(@TempDir Path dir)
        throws Exception {
        System.out.println("seed " + SEED);
        SplittableRandom rnd = new SplittableRandom(SEED);
        byte[] first = new byte[200_000];
        byte[] more = new byte[50_000];
        rnd.nextBytes(first);
        rnd.nextBytes(more);
        Path src = dir.resolve("src.log");
        Files.write(src, first);
        String path = src.toString();
        UdpServer server = new UdpServer(new InetSocketAddress(LO, 0), dir.resolve("out"), RealFs.INSTANCE,
            UdpServer.config(1472, 100, 1 << 20, 100), OutputStore.Config.DEFAULT, new Log("server"));
        UdpServer back = null;
        try {
            UdpAgent agent = agent(server.address(), src, dir.resolve("state"));
            try {
                int admin = agent.startAdmin(new InetSocketAddress(LO, 0));
                Map<String, PromText.Family> f = awaitMetrics(admin,
                    m -> fileSample(m, "tailwire_file_durable_bytes", path) == first.length, "the file durable");
                assertEquals(first.length, fileSample(f, "tailwire_file_read_bytes", path));
                assertEquals(first.length, fileSample(f, "tailwire_file_size_bytes", path));
                assertEquals(0.0, fileSample(f, "tailwire_file_lag_bytes", path));
                assertEquals(1.0, f.get("tailwire_server_connected").samples().get(0).value());
                assertEquals(0.0, f.get("tailwire_source_lost_bytes_total").samples().get(0).value());
                assertEquals(Map.of("version", MetricRegistry.VERSION), f.get("tailwire_build_info").samples().get(0)
                    .labels());
                assertTrue(f.containsKey("jvm_memory_used_bytes"), f.keySet().toString());
                assertEquals("ok\n", get(admin, "/health").body());
                assertEquals("ok\n", get(admin, "/ready").body());

                // The server is gone: what is appended now stays behind, and the agent says by how much.
                server.kill();
                Files.write(src, more, StandardOpenOption.APPEND);
                long total = first.length + more.length;
                f = awaitMetrics(admin, m -> fileSample(m, "tailwire_file_size_bytes", path) == total, "the append seen");
                assertEquals(more.length, fileSample(f, "tailwire_file_lag_bytes", path), "lag = size - durable");
                assertEquals(first.length, fileSample(f, "tailwire_file_durable_bytes", path));

                Map<String, Object> status = MiniJson.object(get(admin, "/status").body());
                assertEquals("a1", status.get("agent"));
                assertEquals(server.address().getHostString() + ":" + server.address().getPort(), status.get("server"));
                List<?> files = (List<?>) status.get("files");
                assertEquals(List.of(Map.of("path", path, "generation", 1L, "size", total, "read", total,
                    "durable", (long) first.length, "lag_bytes", (long) more.length)), files);

                // A server back on the same address: the agent reconnects and catches up.
                back = new UdpServer(server.address(), dir.resolve("out"), RealFs.INSTANCE,
                    UdpServer.config(1472, 100, 1 << 20, 100), OutputStore.Config.DEFAULT, new Log("server2"));
                f = awaitMetrics(admin, m -> fileSample(m, "tailwire_file_lag_bytes", path) == 0, "the lag gone");
                assertEquals(total, fileSample(f, "tailwire_file_durable_bytes", path));
                assertEquals(1.0, f.get("tailwire_server_connected").samples().get(0).value());
            } finally {
                assertTrue(agent.stop(5_000_000_000L, 10_000), "the agent stops within its grace");
            }
            assertEquals("agent loop is not running (agent stopped)", agent.health().notLive());
        } finally {
            server.kill();
            if (back != null) {
                back.close();
            }
        }
    }

    @Test
    void withoutAServerTheAgentIsAliveButNotReady(@TempDir Path dir) throws Exception {
        Path src = dir.resolve("src.log");
        Files.write(src, "x\n".getBytes(StandardCharsets.UTF_8));
        InetSocketAddress nobody;
        try (DatagramSocket s = new DatagramSocket(0, LO)) {
            nobody = new InetSocketAddress(LO, s.getLocalPort()); // closed again: nothing listens there
        }
        UdpAgent agent = agent(nobody, src, dir.resolve("state"));
        try {
            int admin = agent.startAdmin(new InetSocketAddress(LO, 0));
            HttpResponse<String> ready = null;
            for (int waited = 0; waited < AWAIT_MS; waited += 50) {
                ready = get(admin, "/ready");
                if (ready.body().startsWith("not connected")) {
                    break;
                }
                Thread.sleep(50);
            }
            assertNotNull(ready);
            assertEquals(503, ready.statusCode());
            assertEquals("not connected to the server " + nobody.getHostString() + ":" + nobody.getPort()
                + " (connecting; retrying)\n", ready.body());
            assertEquals(200, get(admin, "/health").statusCode(), "no server is no reason to restart the agent");
            Map<String, PromText.Family> f = PromText.parse(get(admin, "/metrics").body());
            assertEquals(0.0, f.get("tailwire_server_connected").samples().get(0).value());
            assertEquals(false, MiniJson.object(get(admin, "/status").body()).get("connected"));
        } finally {
            agent.kill();
        }
    }

    @Test
    void theAgentsEndpointHasTheServersProtectionsAndIsReadOnly(@TempDir Path dir) throws Exception {
        Path src = dir.resolve("src.log");
        Files.write(src, "x\n".getBytes(StandardCharsets.UTF_8));
        UdpAgent agent = agent(new InetSocketAddress(LO, 9), src, dir.resolve("state"));
        try {
            int admin = agent.startAdmin(new InetSocketAddress(LO, 0));
            for (String path : List.of("/metrics", "/status", "/health", "/ready")) {
                assertTrue(raw(admin, "GET " + path + " HTTP/1.1\r\nHost: evil.example:" + admin
                    + "\r\nConnection: close\r\n\r\n").contains(" 403 "), "DNS rebinding: " + path);
                HttpResponse<String> cross = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin
                    + path)).header("Origin", "http://evil.example").build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(403, cross.statusCode(), "cross-origin: " + path);
                HttpResponse<String> form = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin
                        + path)).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("a=b")).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(415, form.statusCode(), "a body: " + path);
                HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin
                    + path)).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(405, post.statusCode(), "read-only: " + path);
            }
            assertEquals(404, get(admin, "/throttle").statusCode(), "no throttle on an agent");
            assertTrue(raw(admin, "GET /health HTTP/1.1\r\nHost: localhost:" + admin + "\r\nConnection: close\r\n\r\n")
                .contains(" 200 "));
            // a second endpoint on the same port fails with a plain message
            UdpAgent other = agent(new InetSocketAddress(LO, 9), src, dir.resolve("state2"));
            try {
                IOException e = assertThrows(IOException.class, () -> other.startAdmin(new InetSocketAddress(LO, admin)));
                assertTrue(e.getMessage().startsWith("cannot listen for admin HTTP on ")
                    && e.getMessage().contains(":" + admin), e.getMessage());
            } finally {
                other.kill();
            }
        } finally {
            agent.kill();
        }
        assertTrue(UdpAgent.adminExposureWarning(new InetSocketAddress("0.0.0.0", 7072)).contains("no authentication"));
        assertEquals(null, UdpAgent.adminExposureWarning(new InetSocketAddress(LO, 7072)));
    }

    private static String raw(int port, String request) throws IOException {
        try (Socket s = new Socket(LO, port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            String line = r.readLine();
            return line == null ? "" : line;
        }
    }
}
