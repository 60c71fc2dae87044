package io.tailwire.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tailwire.run.UdpAgent;
import io.tailwire.run.UdpServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One agent, one server, real files on loopback: every way a log file changes under the agent. The copy
 * at the server must equal every byte the writer wrote, in order, with the generations back to back.
 * Copytruncate and truncation happen only after the copy caught up, so nothing may be lost and the
 * agent must report no loss.
 */
class RotationTest {
    private static final long SEED = 0x5EED_0001L;
    private static final String ID = "host-1";

    @TempDir
    Path tmp;
    private Rig rig;
    private UdpServer server;

    @BeforeEach
    void start() throws Exception {
        rig = new Rig(tmp, SEED);
        server = rig.server();
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    @Test
    void renameAndCreateRotationsShipEveryGenerationWholeAndInOrder() throws Exception {
        Path dir = rig.logDir("app");
        NumberedLog log = new NumberedLog(dir.resolve("app.log"), SEED);
        log.write(100);
        rig.agent(server, ID, dir + "/*.log");
        Path copy = rig.output(ID, log.path);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        // Plain rename+create.
        log.rotate();
        log.write(100);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        // The writer keeps appending to the renamed file before it reopens: those lines belong to the old
        // generation, which the agent reads to its end (grace period) before the new one.
        log.renameAway();
        log.write(50);
        log.reopen();
        log.write(100);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        // Three rotations while the older generations are still unfinished: they queue behind each other.
        for (int i = 0; i < 3; i++) {
            int before = rig.logLines("new generation").size();
            log.rotate();
            log.write(30);
            rig.awaitLog("new generation", before + 1);
        }
        log.write(40);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        assertEquals(List.of(rig.out.resolve(ID).relativize(copy).toString()), Rig.filesUnder(rig.out.resolve(ID)), "only the live path has a copy; rotated names are not new paths");
        assertEquals(List.of(), rig.logLines("LOST"), "nothing may be reported lost");
    }

    @Test
    void copyTruncateShipsTheCopiedBytesOnceThenTheNewContent() throws Exception {
        Path dir = rig.logDir("app");
        NumberedLog log = new NumberedLog(dir.resolve("app.log"), SEED);
        log.write(200);
        UdpAgent agent = rig.agent(server, ID, dir + "/*.log");
        Path copy = rig.output(ID, log.path);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        // Cut, then fewer bytes than before: the size shrinks.
        log.copyTruncate();
        log.write(50);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        // Cut, then more bytes than before at once: only the changed first bytes reveal the truncation.
        log.copyTruncate();
        log.write(300);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        assertEquals(0, agent.core().lossBytes(), "the agent had shipped everything before each cut");
        assertEquals(List.of(), rig.logLines("LOST"));
    }

    @Test
    void truncationInPlaceStartsANewGenerationAfterTheOldBytes() throws Exception {
        Path dir = rig.logDir("app");
        NumberedLog log = new NumberedLog(dir.resolve("app.log"), SEED);
        UdpAgent agent = rig.agent(server, ID, log.path.toString()); // explicit path, created after the agent
        log.write(300);
        Path copy = rig.output(ID, log.path);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        log.truncate();
        log.write(20);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        log.truncate();
        log.write(400);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        // Truncated to zero and left empty for a while, then written again.
        log.truncate();
        rig.awaitLog("truncation seen", 3);
        log.write(10);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        assertEquals(0, agent.core().lossBytes());
        assertEquals(List.of(), rig.logLines("LOST"));
    }

    @Test
    void fileDeletedWhileOpenIsShippedToItsEndThenTheNewFileFollows() throws Exception {
        Path dir = rig.logDir("app");
        NumberedLog log = new NumberedLog(dir.resolve("app.log"), SEED);
        log.write(50);
        UdpAgent agent = rig.agent(server, ID, dir + "/*.log");
        Path copy = rig.output(ID, log.path);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        // The agent holds the file open: lines written just before the unlink are still read from it.
        log.write(500);
        log.unlink();
        log.reopen();
        rig.awaitLog("deleted while open", 1);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        // A new file at the path is the next generation of the same copy.
        log.write(100);
        rig.awaitOutputs(Map.of(copy, log.expected()));

        assertEquals(0, agent.core().lossBytes());
        assertEquals(List.of(), rig.logLines("LOST"));
    }
}
