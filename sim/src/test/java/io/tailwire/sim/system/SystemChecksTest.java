package io.tailwire.sim.system;

import static io.tailwire.io.Units.NANOS_PER_SECOND;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.io.ForwardingFs;
import io.tailwire.io.Fs;
import io.tailwire.io.FsFile;
import org.junit.jupiter.api.Test;

/** The whole-system checks catch a server that breaks its promises (they are not vacuous). */
class SystemChecksTest {
    /** The server's file system with fsync of files turned into a no-op: a server that forgot to force. */
    static Fs noFsync(Fs fs) {
        return new ForwardingFs(fs) {
            @Override
            protected FsFile wrap(FsFile f) {
                return new ForwardingFile(f) {
                    @Override
                    public void force() {
                        // the bug under test
                    }
                };
            }
        };
    }

    private static final Scenario SERVER_POWER_LOSSES = new Scenario(5, 2, 2, 10 * NANOS_PER_SECOND, 6000, 0, false,
        0, 0, 0, false, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0);

    @Test
    void aServerThatSkipsFsyncFailsTheDurabilityCheck() {
        RunResult r = new SystemSim(SERVER_POWER_LOSSES).decorateServerFs(SystemChecksTest::noFsync).run();
        assertFalse(r.pass(), "a server that never forces must fail the run");
        assertTrue(r.violation().contains("power loss"), r.violation());
    }

    @Test
    void theSameScenarioWithTheRealFileSystemPasses() {
        RunResult r = SystemSim.run(SERVER_POWER_LOSSES);
        assertTrue(r.pass(), r::failureReport);
    }
}
