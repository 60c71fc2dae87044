package io.tailwire.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tailwire.run.UdpAgent;
import io.tailwire.run.UdpServer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 of either side while applications keep logging, and a server outage of a few seconds. The agent
 * restarts from its state directory, the server from its output directory on the same port; afterwards
 * every copy must equal its source byte for byte: nothing lost, nothing written twice.
 */
class RestartTest {
    private static final long SEED = 0x5EED_0300L;
    private static final String ID = "app-host";

    @TempDir
    Path tmp;
    private Rig rig;
    private Path dir;
    private NumberedLog a;
    private NumberedLog b;
    private NumberedLog rot;
    private String glob;

    @BeforeEach
    void start() throws Exception {
        rig = new Rig(tmp, SEED);
        dir = rig.logDir("app");
        a = new NumberedLog(dir.resolve("a.log"), SEED);
        b = new NumberedLog(dir.resolve("b.log"), SEED + 1);
        rot = new NumberedLog(dir.resolve("rot.log"), SEED + 2);
        a.write(50);
        b.write(50);
        rot.write(50);
        glob = dir + "/*.log";
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    private Map<Path, byte[]> expected() {
        Map<Path, byte[]> m = new LinkedHashMap<>();
        for (NumberedLog l : List.of(a, b, rot)) {
            m.put(rig.output(ID, l.path), l.expected());
        }
        return m;
    }

    private void progress(long more) throws Exception {
        Path out = rig.output(ID, a.path);
        long now = java.nio.file.Files.exists(out) ? java.nio.file.Files.size(out) : 0;
        rig.awaitSizeAbove(out, now + more);
    }

    @Test
    void agentKilledAndRestartedOnItsStateLosesAndRepeatsNothing() throws Exception {
        UdpServer server = rig.server();
        UdpAgent agent = rig.agent(server, ID, glob);
        try (BackgroundWriter w = new BackgroundWriter(List.of(a, b, rot))) {
            progress(0);
            agent.kill();
            Thread.sleep(300); // the applications keep logging meanwhile
            agent = rig.agent(server, ID, glob);
            progress(2000);

            // Rotated while the agent runs, then killed while the old generation may still be unfinished.
            int gens = rig.logLines("new generation").size();
            rot.rotate();
            rig.awaitLog("new generation", gens + 1);
            agent.kill();

            // Rotated while no agent runs: the restarted agent finds the old file by inode next to the path.
            rot.rotate();
            Thread.sleep(300);
            agent = rig.agent(server, ID, glob);
            progress(2000);

            // Killed again at once, likely mid-handshake or before its first state save.
            agent.kill();
            agent = rig.agent(server, ID, glob);
        }
        rig.awaitOutputs(expected());
        assertEquals(List.of(), rig.logLines("LOST"));
        assertNull(agent.failure());
        assertNull(server.failure());
    }

    @Test
    void serverKilledAndRestartedOnTheSamePortLosesAndRepeatsNothing() throws Exception {
        UdpServer server = rig.server();
        int port = server.address().getPort();
        UdpAgent agent = rig.agent(server, ID, glob);
        try (BackgroundWriter w = new BackgroundWriter(List.of(a, b, rot))) {
            progress(0);
            server.kill();
            server = rig.restartServer(port);
            progress(2000);

            rot.rotate();
            server.kill();
            server = rig.restartServer(port);
            progress(2000);

            // Both sides killed at once, then both restarted.
            server.kill();
            agent.kill();
            server = rig.restartServer(port);
            agent = rig.agent(server, ID, glob);
            progress(2000);
        }
        rig.awaitOutputs(expected());
        assertEquals(List.of(), rig.logLines("LOST"));
        assertNull(agent.failure());
        assertNull(server.failure());
    }

    @Test
    void serverOutageOfSecondsWhileApplicationsKeepLoggingLosesNothing() throws Exception {
        UdpServer server = rig.server();
        int port = server.address().getPort();
        UdpAgent agent = rig.agent(server, ID, glob);
        try (BackgroundWriter w = new BackgroundWriter(List.of(a, b, rot))) {
            progress(0);
            server.kill();
            // Down for three seconds: the agent keeps reading what fits its send buffer and follows a
            // rotation; everything else waits in the files.
            Thread.sleep(1500);
            rot.rotate();
            Thread.sleep(1500);
            server = rig.restartServer(port);
            progress(2000);
        }
        rig.awaitOutputs(expected());
        assertEquals(List.of(), rig.logLines("LOST"));
        assertNull(agent.failure());
        assertNull(server.failure());
    }
}
