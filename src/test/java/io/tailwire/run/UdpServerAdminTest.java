package io.tailwire.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.log.Log;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.RealFs;
import io.tailwire.server.store.OutputStore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin endpoint wired into a real server over loopback: /metrics and /status show a real agent,
 * POST /throttle pauses it through the window (its byte count stops) and unpausing lets it finish.
 */
class UdpServerAdminTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    private static String get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String post(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static void await(BooleanSupplier cond, String what) throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            if (cond.getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting for " + what);
    }

    private static long metric(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(text);
        assertTrue(m.find(), name + " missing from /metrics");
        return (long) Double.parseDouble(m.group(1));
    }

    @Test
    void metricsStatusAndThrottleWorkAgainstARunningServerAndAgent(@TempDir Path dir) throws Exception {
        byte[] data = new byte[2 << 20];
        new SplittableRandom(61).nextBytes(data);
        Path src = dir.resolve("src.log");
        Files.write(src, data);
        try (UdpServer server = new UdpServer(new InetSocketAddress(LO, 0), dir.resolve("out"), RealFs.INSTANCE,
            UdpServer.config(1472, 100, 1 << 20, 100), OutputStore.Config.DEFAULT, new Log("server"))) {
            int admin = server.startAdmin(new InetSocketAddress(LO, 0));
            assertTrue(get(admin, "/metrics").contains("tailwire_connections 0"));
            post(admin, "/throttle?bytes_per_second=0"); // paused before the agent starts
            UdpAgent agent = new UdpAgent(server.address(), AgentConnectionConfig.defaults("t1"),
                TailerConfig.of(List.of(src.toString())), RealFs.INSTANCE, dir.resolve("state"), new PollBackoff(), 7,
                0, new Log("agent"));
            try {
                await(() -> {
                    try {
                        return get(admin, "/status").contains("\"agent\":\"t1\"");
                    } catch (Exception e) {
                        return false;
                    }
                }, "the agent in /status");
                String metrics = get(admin, "/metrics");
                assertEquals(1, metric(metrics, "tailwire_connections"));
                assertEquals(0, metric(metrics, "tailwire_throttle_global_bytes_per_second"));
                Thread.sleep(300);
                assertEquals(0, metric(get(admin, "/metrics"), "tailwire_received_bytes_total"),
                    "bytes accepted while paused");
                assertTrue(get(admin, "/status").contains("\"window\":0"));

                post(admin, "/throttle?bytes_per_second=-1");
                Path out;
                await(() -> server.store().bytesDurable() >= data.length, "the file to be durable");
                try (var files = Files.walk(dir.resolve("out"))) {
                    out = files.filter(p -> p.endsWith("src.log")).findFirst().orElseThrow();
                }
                assertArrayEquals(data, Files.readAllBytes(out));
                metrics = get(admin, "/metrics");
                assertEquals(data.length, metric(metrics, "tailwire_store_bytes_durable_total"));
                assertTrue(metrics.contains("tailwire_agent_received_bytes_total{agent=\"t1\"}"));
                // Prometheus' client adds the build and the JVM's own metrics.
                assertTrue(metrics.contains("tailwire_build_info{version=\"" + io.tailwire.http.MetricRegistry.VERSION
                    + "\"} 1"), metrics);
                assertTrue(metrics.contains("\njvm_memory_used_bytes{area=\"heap\"} "), metrics);
            } finally {
                agent.kill();
            }
            // The admin port is taken now: a second server's admin fails with a plain message.
            try (UdpServer other = new UdpServer(new InetSocketAddress(LO, 0), dir.resolve("out2"), RealFs.INSTANCE,
                UdpServer.config(1472, 100, 1 << 20, 100), OutputStore.Config.DEFAULT, new Log("server2"))) {
                IOException e = assertThrows(IOException.class,
                    () -> other.startAdmin(new InetSocketAddress(LO, admin)));
                assertTrue(e.getMessage().contains(":" + admin), e.getMessage());
            }
        }
    }
}
