package io.tailwire.server.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;

import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.engine.ServerEvents;
import io.tailwire.io.RealFs;
import io.tailwire.server.store.OutputStore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The published snapshot and the server metrics registered from it. */
class ServerStatusTest {
    @Test
    void lossReportsAreSummedPerAgentAndCountersComeFromTheLastPublish(@TempDir Path dir) throws Exception {
        try (OutputStore store = new OutputStore(RealFs.INSTANCE, dir, OutputStore.Config.DEFAULT, s -> { })) {
            ServerEndpoint ep = new ServerEndpoint(ServerEndpointConfig.defaults(), new byte[32], 1, store,
                ServerEvents.NONE);
            ServerStatus st = new ServerStatus();
            Metrics m = new Metrics();
            st.register(m, store, 12345);
            st.onLossReport("b", 10);
            st.onLossReport("a", 500);
            st.onLossReport("a", 300);
            st.onLossReport("a", 0);
            st.publish(ep, 1_000_000_000L, Instant.EPOCH);
            String text = m.scrape();
            assertTrue(text.contains("tailwire_loss_reported_bytes_total{agent=\"a\"} 800\n"), text);
            assertTrue(text.contains("tailwire_loss_reported_bytes_total{agent=\"b\"} 10\n"), text);
            assertTrue(text.contains("tailwire_memory_budget_bytes 12345\n"), text);
            assertTrue(text.contains("tailwire_connections 0\n"), text);
            assertEquals(0, st.agents().size());
            assertEquals(0, st.counters().bytesReceived());
        }
    }
}
