package io.tailwire.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;

import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.ForwardingFs;
import io.tailwire.io.FsFile;
import io.tailwire.io.RealFs;
import io.tailwire.log.Log;
import io.tailwire.server.store.OutputStore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GET /health and GET /ready of a real server over loopback: ready while it takes data, not ready (503,
 * with the reason) while its storage refuses writes and ready again by itself when they work, alive
 * throughout; after a stop both say so.
 */
class UdpServerHealthTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final long SEED = 1801;
    /** Generous: only bounds how long a broken server makes the test wait. */
    private static final int AWAIT_MS = 60_000;

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    /** Real files whose writes fail like a full disk while {@link #full} is set. */
    private static final class FillableFs extends ForwardingFs {
        volatile boolean full;

        FillableFs() {
            super(RealFs.INSTANCE);
        }

        @Override
        protected FsFile wrap(FsFile f) {
            return new ForwardingFile(f) {
                @Override
                public void write(ByteBuffer src, long position) throws IOException {
                    if (full) {
                        throw new IOException("No space left on device");
                    }
                    super.write(src, position);
                }
            };
        }
    }

    @Test
    void readyIs503WhileStorageRefusesWritesAndRecoversByItselfWhileHealthStays200(@TempDir Path dir)
        throws Exception {
        System.out.println("seed " + SEED);
        SplittableRandom rnd = new SplittableRandom(SEED);
        Path src = dir.resolve("src.log");
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        byte[] chunk = new byte[20_000];
        rnd.nextBytes(chunk);
        Files.write(src, chunk);
        sent.write(chunk);
        FillableFs fs = new FillableFs();
        try (UdpServer server = new UdpServer(new InetSocketAddress(LO, 0), dir.resolve("out"), fs,
            UdpServer.config(1472, 100, 1 << 20, 100), OutputStore.Config.DEFAULT, new Log("server"))) {
            int admin = server.startAdmin(new InetSocketAddress(LO, 0));
            assertEquals(200, get(admin, "/health").statusCode());
            assertEquals("ok\n", get(admin, "/ready").body());
            UdpAgent agent = new UdpAgent(server.address(), AgentConnectionConfig.defaults("h1"),
                TailerConfig.of(List.of(src.toString())), RealFs.INSTANCE, dir.resolve("state"), new PollBackoff(),
                SEED, 0, new Log("agent"));
            try {
                awaitDurable(server, sent.size());
                fs.full = true;
                HttpResponse<String> ready = null;
                // More data: the server's writes fail, the engine stalls the connection, /ready says why.
                for (int waited = 0; waited < AWAIT_MS; waited += 50) {
                    rnd.nextBytes(chunk);
                    Files.write(src, chunk, StandardOpenOption.APPEND);
                    sent.write(chunk);
                    ready = get(admin, "/ready");
                    if (ready.statusCode() == 503) {
                        break;
                    }
                    Thread.sleep(50);
                }
                assertNotNull(ready);
                assertEquals(503, ready.statusCode(), ready.body());
                assertTrue(ready.body().startsWith("storage refuses writes") && ready.body().endsWith("\n")
                    && ready.body().indexOf('\n') == ready.body().length() - 1, ready.body());
                assertEquals("ok\n", get(admin, "/health").body(), "alive: a full disk is not a reason to restart");

                fs.full = false;
                for (int waited = 0; waited < AWAIT_MS && get(admin, "/ready").statusCode() != 200; waited += 50) {
                    Thread.sleep(50);
                }
                assertEquals("ok\n", get(admin, "/ready").body(), "ready again once writes work");
                awaitDurable(server, sent.size());
                Path out;
                try (var files = Files.walk(dir.resolve("out"))) {
                    out = files.filter(p -> p.endsWith("src.log")).findFirst().orElseThrow();
                }
                assertArrayEquals(sent.toByteArray(), Files.readAllBytes(out), "nothing lost or repeated");
            } finally {
                agent.kill();
            }
            server.close();
            assertTrue(server.health().notLive().contains("server stopped"), server.health().notLive());
            assertTrue(server.health().notReady().contains("server stopped"), server.health().notReady());
        }
    }

    private static void awaitDurable(UdpServer server, long bytes) throws InterruptedException {
        for (int waited = 0; waited < AWAIT_MS && server.store().bytesDurable() < bytes; waited += 20) {
            Thread.sleep(20);
        }
        assertEquals(bytes, server.store().bytesDurable(), "durable at the server");
    }
}
