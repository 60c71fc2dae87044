package io.tailwire.sim.system;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.io.FileKey;
import io.tailwire.io.Fs;
import io.tailwire.io.FsFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The whole-system checks catch a server that breaks its promises (they are not vacuous). */
class SystemChecksTest {
    /** The server's file system with fsync of files turned into a no-op: a server that forgot to force. */
    static Fs noFsync(Fs fs) {
        return new Fs() {
            @Override
            public FsFile openRead(Path path) throws IOException {
                return fs.openRead(path);
            }

            @Override
            public FsFile openWrite(Path path) throws IOException {
                FsFile f = fs.openWrite(path);
                return new FsFile() {
                    @Override
                    public int read(ByteBuffer dst, long position) throws IOException {
                        return f.read(dst, position);
                    }

                    @Override
                    public void write(ByteBuffer src, long position) throws IOException {
                        f.write(src, position);
                    }

                    @Override
                    public long size() throws IOException {
                        return f.size();
                    }

                    @Override
                    public void truncate(long size) throws IOException {
                        f.truncate(size);
                    }

                    @Override
                    public void force() {
                        // the bug under test
                    }

                    @Override
                    public FileKey key() throws IOException {
                        return f.key();
                    }

                    @Override
                    public void close() throws IOException {
                        f.close();
                    }
                };
            }

            @Override
            public FileKey key(Path path) throws IOException {
                return fs.key(path);
            }

            @Override
            public long size(Path path) throws IOException {
                return fs.size(path);
            }

            @Override
            public boolean isDirectory(Path path) {
                return fs.isDirectory(path);
            }

            @Override
            public List<Path> list(Path dir) throws IOException {
                return fs.list(dir);
            }

            @Override
            public void createDirectories(Path dir) throws IOException {
                fs.createDirectories(dir);
            }

            @Override
            public void rename(Path from, Path to) throws IOException {
                fs.rename(from, to);
            }

            @Override
            public void delete(Path path) throws IOException {
                fs.delete(path);
            }

            @Override
            public void forceDirectory(Path dir) throws IOException {
                fs.forceDirectory(dir);
            }

            @Override
            public Path realPath(Path path) throws IOException {
                return fs.realPath(path);
            }
        };
    }

    private static final Scenario SERVER_POWER_LOSSES = new Scenario(5, 2, 2, 10 * Scenario.SECOND, 6000, 0, false,
        0, 0, 0, false, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0);

    @Test
    void aServerThatSkipsFsyncFailsTheDurabilityCheck() {
        RunResult r = new SystemSim(SERVER_POWER_LOSSES).decorateServerFs(SystemChecksTest::noFsync).run();
        assertFalse(r.pass(), "a server that never forces must fail the run");
        assertTrue(r.violation().contains("power loss"), r.violation());
    }

    @Test
    void theSameScenarioWithTheRealFileSystemPasses() {
        RunResult r = SystemSim.run(SERVER_POWER_LOSSES, true);
        assertTrue(r.pass(), r::failureReport);
    }
}
