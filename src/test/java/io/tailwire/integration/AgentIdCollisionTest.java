package io.tailwire.integration;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.agent.InstanceIdentity;
import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.log.Log;
import io.tailwire.engine.AgentConnection;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.RealFs;
import io.tailwire.run.UdpAgent;
import io.tailwire.run.UdpServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 item 2 with real sockets: two hosts' agents given one --id (the default is the host name) no
 * longer take turns writing one copy. The first keeps the id; the second is refused and says so.
 */
class AgentIdCollisionTest {
    private static final long SEED = 0x5EED_1102L;
    private static final String ID = "web-01";

    @TempDir
    Path tmp;
    private Rig rig;
    private final List<UdpAgent> agents = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (UdpAgent a : agents) {
            a.kill();
        }
        rig.close();
    }

    private UdpAgent agent(UdpServer server, Path source, String stateName) throws Exception {
        AgentConnectionConfig cc = AgentConnectionConfig.defaults(ID)
            .withTimeouts(5_000 * NANOS_PER_MILLI, 30_000 * NANOS_PER_MILLI, 1_000 * NANOS_PER_MILLI);
        UdpAgent a = new UdpAgent(server.address(), cc, TailerConfig.of(List.of(source.toString())), RealFs.INSTANCE,
            rig.states.resolve(stateName), new PollBackoff(200_000L, 20 * NANOS_PER_MILLI), SEED + agents.size(), 0,
            new Log("agent " + stateName));
        agents.add(a);
        return a;
    }

    @Test
    void aSecondAgentWithTheSameIdIsRefusedAndTheCopyHoldsOnlyTheFirstSource() throws Exception {
        rig = new Rig(tmp, SEED);
        UdpServer server = rig.server();
        NumberedLog first = new NumberedLog(rig.logDir("host1").resolve("app.log"), SEED).write(500);
        NumberedLog second = new NumberedLog(rig.logDir("host2").resolve("app.log"), SEED + 1).write(500);
        UdpAgent a = agent(server, first.path, "host1");
        rig.awaitOutputs(Map.of(rig.output(ID, first.path), first.expected()));
        long holder = a.core().connection().connectionId();

        agent(server, second.path, "host2");
        rig.awaitLog("AGENT_ID_IN_USE", 1);
        first.write(500);
        rig.awaitOutputs(Map.of(rig.output(ID, first.path), first.expected()));
        AgentConnection c = a.core().connection();
        assertEquals(AgentConnection.State.CONNECTED, c.state());
        assertEquals(holder, c.connectionId(), "the holder was never knocked off");
        assertFalse(Files.exists(rig.output(ID, second.path)), "the second agent wrote nothing");
        // The server said so once for this episode, however often the second agent retried.
        assertEquals(1, rig.logLines("refused another agent").size(), rig.logTail(20));
        // ... and counts every refusal where an operator looks.
        int admin = server.startAdmin(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
        java.util.regex.Pattern refusals = java.util.regex.Pattern.compile("(?m)^tailwire_agent_id_refusals_total (\\d+)");
        String metrics = "";
        long refused = 0;
        for (int i = 0; i < 100 && refused == 0; i++) { // the snapshot behind /metrics is published every few ms
            metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + admin + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            java.util.regex.Matcher m = refusals.matcher(metrics);
            refused = m.find() ? Long.parseLong(m.group(1)) : 0;
            if (refused == 0) {
                Thread.sleep(50);
            }
        }
        assertTrue(refused >= 1, metrics);

        // A second agent on the first one's state directory cannot start at all.
        InstanceIdentity.InUseException e = assertThrows(InstanceIdentity.InUseException.class,
            () -> agent(server, second.path, "host1"));
        assertTrue(e.getMessage().contains("in use by another running agent"), e.getMessage());
    }
}
