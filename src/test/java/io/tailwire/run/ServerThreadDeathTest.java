package io.tailwire.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.WindowLimiter;
import io.tailwire.io.RealFs;
import io.tailwire.log.Log;
import io.tailwire.server.limit.IngestThrottle;
import io.tailwire.server.store.OutputStore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 item 1: an Error on the engine thread must end the process, not leave a server that only looks
 * alive; and until the handler has ended it, GET /health and /ready say it is dead (issue 18 item 3).
 */
class ServerThreadDeathTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    @Test
    void anErrorOnTheEngineThreadReachesTheExitHandler(@TempDir Path dir) throws Exception {
        CompletableFuture<String> died = new CompletableFuture<>();
        try (UdpServer server = new UdpServer(new InetSocketAddress(LO, 0), dir.resolve("out"), RealFs.INSTANCE,
            UdpServer.config(1472, 100, 1 << 20, 100), OutputStore.Config.DEFAULT, new Log("server"),
            new IngestThrottle(), io.tailwire.config.Configuration.MEMORY_BUDGET_BYTES,
            (thread, cause) -> died.complete(thread + ": " + cause))) {
            int admin = server.startAdmin(new InetSocketAddress(LO, 0));
            assertEquals(200, probe(admin, "/health").statusCode());
            // The first HELLO with a valid token asks the limiter for the initial window, on the engine thread.
            server.endpoint().setWindowLimiter(new WindowLimiter() {
                @Override
                public void consume(String agentId, long bytes, long nowNs) {
                }

                @Override
                public long window(String agentId, long window, long minOpen, long nowNs) {
                    throw new OutOfMemoryError("simulated");
                }

                @Override
                public long whenAllowed(String agentId, long bytes, long nowNs) {
                    return nowNs;
                }
            });
            UdpAgent agent = new UdpAgent(server.address(), AgentConnectionConfig.defaults("t1"),
                TailerConfig.of(List.of(dir.resolve("none.log").toString())), RealFs.INSTANCE, dir.resolve("state"),
                new PollBackoff(), 7, 0, new Log("agent"));
            try {
                assertEquals("engine: java.lang.OutOfMemoryError: simulated", died.get(20, TimeUnit.SECONDS));
                assertFalse(server.running());
                assertNotNull(server.failure());
                assertTrue(server.failure() instanceof OutOfMemoryError);
                for (String path : new String[] {"/health", "/ready"}) {
                    HttpResponse<String> r = probe(admin, path);
                    assertEquals(503, r.statusCode(), path);
                    assertEquals("server engine thread died: java.lang.OutOfMemoryError: simulated\n", r.body(), path);
                }
            } finally {
                agent.kill();
            }
        }
    }

    private static HttpResponse<String> probe(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .build(), HttpResponse.BodyHandlers.ofString());
    }
}
