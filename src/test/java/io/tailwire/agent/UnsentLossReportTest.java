package io.tailwire.agent;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.engine.ServerEvents;
import io.tailwire.sim.engine.MemoryStreamStore;
import io.tailwire.wire.Wire;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * A loss the agent finds while it cannot send LOSS_REPORT (the server unreachable) is reported once the
 * generation's stream is open again: after a reconnect, and after a restart from the state file (issue 11
 * item 10). AgentCore and ServerEndpoint directly, in virtual time, over a link that is either up or down.
 */
class UnsentLossReportTest {
    private static final String LOG = "/logs/a.log";
    private static final InetSocketAddress AGENT = new InetSocketAddress("10.0.0.2", 40000);

    private record Reported(String path, long from, long to, String reason) {
    }

    private final MemFs fs = new MemFs();
    private final List<Reported> atServer = new ArrayList<>();
    private final ServerEndpoint server = new ServerEndpoint(ServerEndpointConfig.defaults(), "secret".getBytes(), 7,
        new MemoryStreamStore(true, false), new ServerEvents() {
            @Override
            public void onLossReport(String agentId, String path, long generation, long from, long to, String reason) {
                atServer.add(new Reported(path, from, to, reason));
            }
        });
    private final UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    private long now = 1_000 * NANOS_PER_MILLI;

    UnsentLossReportTest() {
        fs.mkdirs("/logs");
        fs.mkdirs("/state");
    }

    private AgentCore agent(long seed) throws Exception {
        AgentCore core = new AgentCore(AgentConnectionConfig.defaults("a1"), TailerConfig.of(List.of(LOG)), fs,
            Path.of("/state"), new PollBackoff(), seed, new AgentCore.Listener() {
                @Override
                public void info(String message) {
                }

                @Override
                public void warn(String message) {
                }
            });
        core.start(now);
        return core;
    }

    /** Runs agent and server for {@code ms} milliseconds, 1 ms per step; datagrams arrive next step if the link is up. */
    private void run(AgentCore core, long ms, boolean linkUp) {
        List<byte[]> toServer = new ArrayList<>();
        List<byte[]> toAgent = new ArrayList<>();
        for (long end = now + ms * NANOS_PER_MILLI; now < end; now += NANOS_PER_MILLI) {
            for (byte[] b : toServer) {
                server.onDatagram(AGENT, new UnsafeBuffer(b), 0, b.length, now);
            }
            for (byte[] b : toAgent) {
                core.onDatagram(new UnsafeBuffer(b), 0, b.length, now);
            }
            toServer.clear();
            toAgent.clear();
            core.wakeScan(now);
            int n;
            while ((n = core.poll(out, now)) > 0) {
                if (linkUp) {
                    toServer.add(Arrays.copyOf(out.byteArray(), n));
                }
            }
            while ((n = server.poll(out, now)) > 0) {
                if (linkUp) {
                    toAgent.add(Arrays.copyOf(out.byteArray(), n));
                }
            }
        }
    }

    private static byte[] text(char c, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 80 == 79 ? '\n' : c);
        }
        return b;
    }

    /** While the server is unreachable, 3000 unread bytes are truncated away and new content is written. */
    private AgentCore truncatedWhileDisconnected() throws Exception {
        fs.create(LOG, text('o', 3000), 1);
        AgentCore core = agent(1);
        run(core, 200, false);
        fs.truncateTo(LOG, 0);
        fs.append(LOG, text('n', 500));
        run(core, 200, false);
        assertEquals(1, core.lossEvents(), "the agent saw the truncation overtake its reader");
        assertTrue(atServer.isEmpty());
        return core;
    }

    @Test
    void aLossFoundWhileDisconnectedIsReportedAfterTheReconnect() throws Exception {
        AgentCore core = truncatedWhileDisconnected();
        run(core, 5_000, true);
        assertEquals(List.of(new Reported(LOG, 0, 3000, "truncated before read")), atServer,
            "the server learned of the loss");
    }

    @Test
    void aLossFoundWhileDisconnectedIsReportedByTheAgentRestartedFromItsStateFile() throws Exception {
        truncatedWhileDisconnected(); // then kill -9: the state file is all that is left
        AgentCore restarted = agent(2);
        run(restarted, 5_000, true);
        assertTrue(atServer.contains(new Reported(LOG, 0, 3000, "truncated before read")),
            "the report saved in the state file reached the server: " + atServer);
    }
}
