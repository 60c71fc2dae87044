package io.tailwire.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.RealFs;
import io.tailwire.log.Log;
import io.tailwire.server.limit.IngestThrottle;
import io.tailwire.server.store.OutputStore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 13 item 2 over real sockets: agents from one address beyond its limit are told BUSY, not admitted. */
class PerAddressLimitSocketTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    private static void await(BooleanSupplier done, String what) throws InterruptedException {
        for (int i = 0; i < 600 && !done.getAsBoolean(); i++) {
            Thread.sleep(50);
        }
        assertTrue(done.getAsBoolean(), "waited 30 s for " + what);
    }

    @Test
    void agentsFromOneAddressBeyondItsLimitGetBusy(@TempDir Path dir) throws Exception {
        try (UdpServer server = new UdpServer(new InetSocketAddress(LO, 0), dir.resolve("out"), RealFs.INSTANCE,
            UdpServer.config(1472, 100, 1 << 20, 100), OutputStore.Config.DEFAULT, new Log("server"),
            new IngestThrottle(), io.tailwire.config.Configuration.MEMORY_BUDGET_BYTES, (thread, cause) -> { })) {
            server.endpoint().setSourceLimits(2, 1000);
            List<UdpAgent> agents = new ArrayList<>();
            try {
                for (int k = 0; k < 4; k++) {
                    agents.add(new UdpAgent(server.address(), AgentConnectionConfig.defaults("a" + k),
                        TailerConfig.of(List.of(dir.resolve("none.log").toString())), RealFs.INSTANCE,
                        dir.resolve("state" + k), new PollBackoff(), k, 0, new Log("agent")));
                }
                await(() -> server.endpoint().stats().busyRejections() >= 2, "two BUSY answers");
                assertEquals(2, server.endpoint().connectionCount(), "connections from 127.0.0.1");
            } finally {
                for (UdpAgent a : agents) {
                    a.kill();
                }
            }
        }
    }
}
