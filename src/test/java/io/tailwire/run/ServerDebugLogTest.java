package io.tailwire.run;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.log.Log;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.RealFs;
import io.tailwire.server.store.OutputStore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 11 item 12 (--debug): the server's debug level says how each connection started and ended, with its bytes. */
class ServerDebugLogTest {
    private static final long SEED = 1212;

    @Test
    void debugLogsEachConnectionsStartAndEndWithItsBytes(@TempDir Path dir) throws Exception {
        System.out.println("seed " + SEED);
        byte[] data = new byte[100_000];
        new SplittableRandom(SEED).nextBytes(data);
        Path src = dir.resolve("d.log");
        Files.write(src, data);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8);
        Log.redirect(capture);
        Log.setDebug(true);
        try (UdpServer server = new UdpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            dir.resolve("out"), RealFs.INSTANCE, UdpServer.config(1472, 100, 1 << 20, 100),
            OutputStore.Config.DEFAULT, new Log("server"))) {
            UdpAgent agent = new UdpAgent(server.address(), AgentConnectionConfig.defaults("dbg"),
                TailerConfig.of(List.of(src.toString())), RealFs.INSTANCE, dir.resolve("state"), new PollBackoff(),
                SEED, 0, new Log("agent"));
            for (int i = 0; i < 1200 && server.store().bytesDurable() < data.length; i++) {
                Thread.sleep(50);
            }
            assertTrue(agent.stop(5_000_000_000L, 10_000), "the agent stops within its grace");
            Pattern ended = Pattern.compile("DEBUG server: agent 'dbg' connection [0-9a-f]+ ended: " + data.length
                + " new payload bytes in [0-9.]+ s");
            for (int i = 0; i < 200 && !ended.matcher(text(buf)).find(); i++) {
                Thread.sleep(50);
            }
            String log = text(buf);
            assertTrue(log.contains("DEBUG server: agent 'dbg' connection "), log);
            assertTrue(ended.matcher(log).find(), log);
        } finally {
            Log.setDebug(false);
            Log.redirect(System.err);
        }
    }

    private static String text(ByteArrayOutputStream buf) {
        synchronized (buf) {
            return buf.toString(StandardCharsets.UTF_8);
        }
    }
}
