package io.tailwire.integration;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.run.UdpAgent;
import io.tailwire.run.UdpServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What SIGTERM means (the commands' shutdown hooks call these same methods): an agent stops reading,
 * waits for the server to acknowledge everything it sent, saves its state and exits; a server makes
 * everything it received durable before it exits. A restart after either continues exactly.
 */
class GracefulStopTest {
    private static final long SEED = 0x5EED_0500L;
    private static final String ID = "term-host";

    @TempDir
    Path tmp;
    private Rig rig;

    @BeforeEach
    void start() throws Exception {
        rig = new Rig(tmp, SEED);
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    @Test
    void agentStopMidTransferLeavesEverythingItSentAtTheServerAndRestartsWhereItStopped() throws Exception {
        UdpServer server = rig.server();
        Path dir = rig.logDir("app");
        NumberedLog big = new NumberedLog(dir.resolve("big.log"), SEED);
        big.write(40_000); // about 8 MB: still shipping when the stop comes
        UdpAgent agent = rig.agent(server, ID, dir + "/*.log");
        Path copy = rig.output(ID, big.path);
        rig.awaitSizeAbove(copy, 100_000);

        assertTrue(agent.stop(20_000 * NANOS_PER_MILLI, 30_000), "the agent finishes its graceful stop");
        // Only now is the agent's state safe to read: its thread has ended.
        long sent = agent.core().bytesQueued();
        byte[] held = Files.readAllBytes(copy);
        assertEquals(sent, held.length, "every byte the agent sent is at the server when stop returns");
        assertArrayEquals(Arrays.copyOf(big.expected(), held.length), held, "the copy is a prefix of the source");
        assertNull(agent.failure());

        UdpAgent again = rig.agent(server, ID, dir + "/*.log");
        rig.awaitOutputs(Map.of(copy, big.expected()));
        assertTrue(rig.logLines("stream resumed at offset " + held.length).size() >= 1,
            "the restarted agent resumes at the server's end of the copy");
        assertNull(again.failure());
    }

    @Test
    void agentStopWhileTheServerIsDownEndsWithinTheGraceAndLosesNothing() throws Exception {
        UdpServer server = rig.server();
        int port = server.address().getPort();
        Path dir = rig.logDir("app");
        NumberedLog log = new NumberedLog(dir.resolve("app.log"), SEED);
        log.write(100);
        UdpAgent agent = rig.agent(server, ID, dir + "/*.log");
        Path copy = rig.output(ID, log.path);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        server.kill();
        log.write(200); // read by the agent, never acknowledged
        Thread.sleep(200);
        assertTrue(agent.stop(500 * NANOS_PER_MILLI, 10_000), "no acknowledgement can come: the stop ends after the grace");

        server = rig.restartServer(port);
        log.write(50);
        rig.agent(server, ID, dir + "/*.log");
        rig.awaitOutputs(Map.of(copy, log.expected()));
        assertEquals(List.of(), rig.logLines("LOST"));
    }

    @Test
    void serverCloseMakesEverythingReceivedDurableAndARestartContinuesExactly() throws Exception {
        UdpServer server = rig.server();
        int port = server.address().getPort();
        Path dir = rig.logDir("app");
        NumberedLog log = new NumberedLog(dir.resolve("app.log"), SEED);
        log.write(20_000);
        UdpAgent agent = rig.agent(server, ID, dir + "/*.log");
        Path copy = rig.output(ID, log.path);
        rig.awaitSizeAbove(copy, 100_000);

        server.close();
        long written = server.store().bytesWritten();
        assertTrue(written > 0);
        assertEquals(written, server.store().bytesDurable(), "every byte written is forced before close returns");
        byte[] held = Files.readAllBytes(copy);
        assertEquals(written, held.length, "the one output file holds what the store wrote");
        assertArrayEquals(Arrays.copyOf(log.expected(), held.length), held, "the copy is a prefix of the source");

        log.write(100);
        server = rig.restartServer(port);
        rig.awaitOutputs(Map.of(copy, log.expected()));
        assertNull(agent.failure());
        assertNull(server.failure());
    }
}
