package io.tailwire.server.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.engine.ServerEvents;
import io.tailwire.http.MetricRegistry;
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
            MetricRegistry m = new MetricRegistry(log -> { });
            st.register(m, store, 12345);
            st.onLossReport("b", 10);
            st.onLossReport("a", 500);
            st.onLossReport("a", 300);
            st.onLossReport("a", 0);
            st.publish(ep, 1_000_000_000L, Instant.EPOCH);
            // Read as numbers: Prometheus' client writes every value as a double ("800.0"), where the
            // hand-written writer wrote whole numbers as integers ("800"); both mean the same to Prometheus.
            Map<String, PromText.Family> f = PromText.parse(m.scrape());
            List<PromText.Sample> loss = f.get("tailwire_loss_reported_bytes_total").samples();
            assertEquals(Map.of(Map.of("agent", "a"), 800.0, Map.of("agent", "b"), 10.0),
                Map.of(loss.get(0).labels(), loss.get(0).value(), loss.get(1).labels(), loss.get(1).value()));
            assertEquals(2, loss.size());
            assertEquals(12345.0, f.get("tailwire_memory_budget_bytes").samples().get(0).value());
            assertEquals(0.0, f.get("tailwire_connections").samples().get(0).value());
            assertEquals(0, st.agents().size());
            assertEquals(0, st.counters().bytesReceived());
        }
    }
}
