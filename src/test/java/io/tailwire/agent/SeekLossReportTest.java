package io.tailwire.agent;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
 * The path issue 12 named as re-entrant: a STREAM_REPLY whose resume offset lies in bytes that are gone
 * makes the tailer's seek report a loss, which must go out as LOSS_REPORT on that very stream. With events
 * taken after the datagram (not call-backs inside it) the connection already holds the stream open then.
 */
class SeekLossReportTest {
    private static final String LOG = "/logs/a.log";
    private static final InetSocketAddress AGENT = new InetSocketAddress("10.0.0.2", 40000);

    private record Reported(String path, long from, long to, String reason) {
    }

    private final MemFs fs = new MemFs();
    private final List<Reported> atServer = new ArrayList<>();
    private final UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    private long now = 1_000 * NANOS_PER_MILLI;

    private ServerEndpoint server(long seed) {
        return new ServerEndpoint(ServerEndpointConfig.defaults(), "secret".getBytes(), seed,
            new MemoryStreamStore(true, false), new ServerEvents() {
                @Override
                public void onLossReport(String agentId, String path, long generation, long from, long to,
                                         String reason) {
                    atServer.add(new Reported(path, from, to, reason));
                }
            });
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

    /** Runs agent and server for {@code ms} milliseconds, 1 ms per step; datagrams arrive the next step. */
    private void run(AgentCore core, ServerEndpoint server, long ms) {
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
                toServer.add(Arrays.copyOf(out.byteArray(), n));
            }
            while ((n = server.poll(out, now)) > 0) {
                toAgent.add(Arrays.copyOf(out.byteArray(), n));
            }
        }
    }

    @Test
    void bytesTheResumeOffsetFindsGoneAreReportedOnTheStreamThatResumes() throws Exception {
        fs.mkdirs("/logs");
        fs.mkdirs("/state");
        byte[] text = new byte[3000];
        Arrays.fill(text, (byte) 'x');
        fs.create(LOG, text, 1);
        run(agent(1), server(7), 2_000); // shipped and recorded in the state file; then kill -9
        fs.delete(Path.of(LOG));
        // A server that lost everything (a fresh store) answers the restarted agent's reopen at offset 0:
        // the 3000 bytes are gone from the agent too.
        run(agent(2), server(8), 5_000);
        assertEquals(List.of(new Reported(LOG, 0, 3000, "gone before the server held it")), atServer);
    }
}
