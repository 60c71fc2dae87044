package io.tailwire.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Predicate;
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
 * Issue 11 item 13, read the way Prometheus reads it (the exposition text over HTTP from a real server
 * and agent): no active connection without connections, an agent's byte counter that survives its
 * reconnects, a disconnected agent marked so at once and its series gone only after the linger.
 */
class AgentMetricsOverHttpTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final long SEED = 1113;
    /** Generous: only bounds how long a broken server makes the test wait. */
    private static final int AWAIT_MS = 60_000;

    private static String get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The sample's value, or null if the series is absent. */
    private static Long sample(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : null;
    }

    /** Polls /metrics until {@code cond} holds; returns that scrape. Fails with the last scrape if it never does. */
    private static String awaitMetrics(int admin, Predicate<String> cond, String what) throws Exception {
        String text = "";
        for (int waited = 0; waited < AWAIT_MS; waited += 50) {
            text = get(admin, "/metrics");
            if (cond.test(text)) {
                return text;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting for " + what + "; last scrape:\n" + text);
    }

    private static UdpAgent agent(UdpServer server, Path src, Path state) throws Exception {
        return new UdpAgent(server.address(), AgentConnectionConfig.defaults("m1"),
            TailerConfig.of(List.of(src.toString())), RealFs.INSTANCE, state, new PollBackoff(), SEED, 0,
            new Log("agent"));
    }

    @Test
    void agentCountersAreCumulativeAcrossReconnectsAndDisconnectedAgentsLeaveAfterTheLinger(@TempDir Path dir)
        throws Exception {
        System.out.println("seed " + SEED);
        SplittableRandom rnd = new SplittableRandom(SEED);
        byte[] first = new byte[300_000];
        byte[] second = new byte[200_000];
        rnd.nextBytes(first);
        rnd.nextBytes(second);
        Path src = dir.resolve("src.log");
        Files.write(src, first);
        String bytes = "tailwire_agent_received_bytes_total{agent=\"m1\"}";
        String connected = "tailwire_agent_connected{agent=\"m1\"}";
        try (UdpServer server = new UdpServer(new InetSocketAddress(LO, 0), dir.resolve("out"), RealFs.INSTANCE,
            UdpServer.config(1472, 100, 1 << 20, 100), OutputStore.Config.DEFAULT, new Log("server"))) {
            int admin = server.startAdmin(new InetSocketAddress(LO, 0));
            // No connection at all: nothing can be active (it said 1).
            String idle = awaitMetrics(admin, t -> sample(t, "tailwire_connections") != null, "a first scrape");
            assertEquals(0L, sample(idle, "tailwire_connections"));
            assertEquals(0L, sample(idle, "tailwire_active_connections"), idle);

            UdpAgent a = agent(server, src, dir.resolve("state"));
            awaitMetrics(admin, t -> Long.valueOf(first.length).equals(sample(t, bytes)), "the first bytes");
            assertTrue(a.stop(5_000_000_000L, 10_000), "the agent stops within its grace");
            String after = awaitMetrics(admin, t -> Long.valueOf(0).equals(sample(t, connected)),
                "the agent marked disconnected");
            assertEquals(first.length, sample(after, bytes), "the count outlives the connection");
            assertTrue(get(admin, "/status").contains("\"connected\":false"));
            awaitMetrics(admin, t -> Long.valueOf(0).equals(sample(t, "tailwire_active_connections")),
                "no active connection once it is gone");

            // The same agent comes back (same id, same state): its counter goes on from where it was.
            Files.write(src, second, StandardOpenOption.APPEND);
            UdpAgent b = agent(server, src, dir.resolve("state"));
            String back = awaitMetrics(admin, t -> Long.valueOf(1).equals(sample(t, connected))
                && Long.valueOf(first.length + second.length).equals(sample(t, bytes)), "the counter to go on");
            assertEquals(first.length + second.length, sample(back, "tailwire_received_bytes_total"),
                "per-agent and server totals agree");
            assertTrue(b.stop(5_000_000_000L, 10_000), "the agent stops within its grace");
            awaitMetrics(admin, t -> Long.valueOf(0).equals(sample(t, connected)), "disconnected again");

            // Past the linger its series leave /metrics and /status.
            server.status().setDisconnectedLingerNs(0);
            String gone = awaitMetrics(admin, t -> !t.contains("agent=\"m1\""), "the series to go");
            assertFalse(gone.contains("agent=\"m1\""), gone);
            assertFalse(get(admin, "/status").contains("\"m1\""));
        }
    }
}
