package io.tailwire.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tailwire.run.UdpServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One agent following many files at once: a recursive glob over nested directories (files there before
 * the agent and files appearing later), plus an explicit path that does not exist yet when the agent
 * starts. Appends arrive in rounds spread over the files; every copy must match its source exactly.
 */
class ManyFilesTest {
    private static final long SEED = 0x5EED_0200L;
    private static final int FILES = 120;
    private static final String ID = "batch-host";

    @TempDir
    Path tmp;

    @Test
    void oneAgentShipsEveryFileOfARecursiveGlobAndALateExplicitPath() throws Exception {
        try (Rig rig = new Rig(tmp, SEED)) {
            UdpServer server = rig.server();
            Path base = rig.logDir("svc");
            SplittableRandom rnd = new SplittableRandom(SEED);
            List<NumberedLog> logs = new ArrayList<>();
            for (int i = 0; i < FILES; i++) {
                Path dir = Files.createDirectories(base.resolve("d" + (i % 6)).resolve("sub" + (i % 4)));
                logs.add(new NumberedLog(dir.resolve("f" + i + ".log"), SEED + i));
            }
            // Half exist before the agent starts.
            for (int i = 0; i < FILES / 2; i++) {
                logs.get(i).write(1 + rnd.nextInt(20));
            }
            // Not .log, so only the explicit source ships it.
            NumberedLog late = new NumberedLog(rig.logDir("other").resolve("late.txt"), SEED - 1);
            rig.agent(server, ID, base + "/**/*.log", late.path.toString());
            for (int round = 0; round < 3; round++) {
                for (NumberedLog l : logs) {
                    if (rnd.nextInt(3) != 0) {
                        l.write(1 + rnd.nextInt(10));
                    }
                }
                late.write(5);
            }
            for (NumberedLog l : logs) {
                if (l.lines() == 0) {
                    l.write(1);
                }
            }
            Map<Path, byte[]> want = new LinkedHashMap<>();
            for (NumberedLog l : logs) {
                want.put(rig.output(ID, l.path), l.expected());
            }
            want.put(rig.output(ID, late.path), late.expected());
            rig.awaitOutputs(want);

            List<String> files = new ArrayList<>();
            for (Path p : want.keySet()) {
                files.add(rig.out.resolve(ID).relativize(p).toString());
            }
            files.sort(null);
            assertEquals(files, Rig.filesUnder(rig.out.resolve(ID)));
            assertEquals(List.of(), rig.logLines("LOST"));
        }
    }
}
