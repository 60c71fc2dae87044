package io.tailwire.agent;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.ForwardingFs;
import io.tailwire.io.FsFile;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * A condition that lasts (a file the agent may not read, a state directory it cannot write, a glob root
 * it may not list) is logged once when it starts and once when it ends, never once per poll (issue 11
 * item 12). Tests run as root in CI, where file permissions do not apply, so the denial is simulated in
 * the file system seam. Virtual time.
 */
class ConditionLoggingTest {
    private static final int POLLS = 1000;

    /** Denies reads (or writes, or listings) of chosen paths with the exception the JDK throws. */
    private static final class DenyingFs extends ForwardingFs {
        final List<Path> denyRead = new ArrayList<>();
        final List<Path> denyWrite = new ArrayList<>();
        final List<Path> denyList = new ArrayList<>();

        DenyingFs(MemFs fs) {
            super(fs);
        }

        @Override
        public FsFile openRead(Path path) throws IOException {
            if (denyRead.contains(path)) {
                throw new AccessDeniedException(path.toString());
            }
            return super.openRead(path);
        }

        @Override
        public FsFile openWrite(Path path) throws IOException {
            if (denyWrite.contains(path.getParent())) {
                throw new AccessDeniedException(path.toString());
            }
            return super.openWrite(path);
        }

        @Override
        public List<Path> list(Path dir) throws IOException {
            if (denyList.contains(dir)) {
                throw new AccessDeniedException(dir.toString());
            }
            return super.list(dir);
        }
    }

    private record Line(String level, String text) {
    }

    private static AgentCore core(DenyingFs fs, List<String> sources, Path stateDir, List<Line> lines) {
        return new AgentCore(AgentConnectionConfig.defaults("a1"), TailerConfig.of(sources), fs, stateDir,
            new PollBackoff(), 1, new AgentCore.Listener() {
                @Override
                public void info(String message) {
                    lines.add(new Line("INFO", message));
                }

                @Override
                public void warn(String message) {
                    lines.add(new Line("WARN", message));
                }
            });
    }

    /** Polls POLLS times, one millisecond apart, scanning every time. Returns the time after. */
    private static long pollMany(AgentCore core, long now) {
        UnsafeBuffer out = new UnsafeBuffer(new byte[65536]);
        for (int i = 0; i < POLLS; i++) {
            core.wakeScan(now);
            while (core.poll(out, now) > 0) {
                // no server: datagrams go nowhere
            }
            now += NANOS_PER_MILLI;
        }
        return now;
    }

    private static String head(List<Line> lines) {
        return lines.size() + " lines, the first: " + (lines.isEmpty() ? "none" : lines.get(0).text);
    }

    private static List<Line> about(List<Line> lines, String what) {
        List<Line> out = new ArrayList<>();
        for (Line l : lines) {
            if (l.text.contains(what)) {
                out.add(l);
            }
        }
        return out;
    }

    @Test
    void anUnreadableFileIsLoggedOnceInPlainWordsAndItsEndOnceWithACount() throws Exception {
        MemFs mem = new MemFs();
        mem.mkdirs("/logs");
        mem.create("/logs/a.log", "hello\n".getBytes(), 1);
        DenyingFs fs = new DenyingFs(mem);
        fs.denyRead.add(Path.of("/logs/a.log"));
        List<Line> lines = new ArrayList<>();
        AgentCore core = core(fs, List.of("/logs/a.log"), null, lines);
        long now = 1_000 * NANOS_PER_MILLI;
        core.start(now);
        now = pollMany(core, now);

        List<Line> denied = about(lines, "/logs/a.log");
        assertEquals(1, denied.size(), "one line for " + POLLS + " polls of an unreadable file: " + head(denied));
        assertEquals("WARN", denied.get(0).level);
        assertTrue(denied.get(0).text.contains("permission denied"), denied.get(0).text);
        assertFalse(denied.get(0).text.contains("Exception"), "plain words, not a class name: " + denied.get(0).text);

        fs.denyRead.clear();
        lines.clear();
        pollMany(core, now);
        List<Line> ended = about(lines, "OK again");
        assertEquals(1, ended.size(), "one line when it ends: " + head(lines));
        assertTrue(ended.get(0).text.contains("/logs/a.log") && ended.get(0).text.contains("permission denied")
            && ended.get(0).text.contains((POLLS + 1) + " times"), ended.get(0).text); // start() scans once too
    }

    @Test
    void anUnlistableGlobDirectoryIsLoggedOnceAndItsEndOnce() throws Exception {
        MemFs mem = new MemFs();
        mem.mkdirs("/logs");
        mem.create("/logs/a.log", "hello\n".getBytes(), 1);
        DenyingFs fs = new DenyingFs(mem);
        fs.denyList.add(Path.of("/logs"));
        List<Line> lines = new ArrayList<>();
        TailerConfig cfg = TailerConfig.of(List.of("/logs/*.log"));
        AgentCore core = core(fs, List.of("/logs/*.log"), null, lines);
        long now = 1_000 * NANOS_PER_MILLI;
        core.start(now);
        // Globs are walked once per discovery interval: poll long enough for many walks.
        long until = now + 20 * cfg.discoveryIntervalNanos();
        while (now < until) {
            now = pollMany(core, now);
        }
        List<Line> denied = about(lines, "/logs/*.log");
        assertEquals(1, denied.size(), "one line for a glob that cannot be walked: " + head(denied));
        assertTrue(denied.get(0).text.contains("permission denied"), denied.get(0).text);

        fs.denyList.clear();
        lines.clear();
        until = now + 2 * cfg.discoveryIntervalNanos();
        while (now < until) {
            now = pollMany(core, now);
        }
        assertEquals(1, about(lines, "OK again").size(), "one line when it ends: " + head(lines));
    }

    @Test
    void aStateDirectoryThatCannotBeWrittenIsLoggedOnceAndItsEndOnce() throws Exception {
        MemFs mem = new MemFs();
        mem.mkdirs("/logs");
        mem.mkdirs("/state");
        mem.create("/logs/a.log", "hello\n".getBytes(), 1);
        DenyingFs fs = new DenyingFs(mem);
        fs.denyWrite.add(Path.of("/state"));
        List<Line> lines = new ArrayList<>();
        AgentCore core = core(fs, List.of("/logs/a.log"), Path.of("/state"), lines);
        long now = 1_000 * NANOS_PER_MILLI;
        core.start(now);
        for (int i = 0; i < 5; i++) {
            mem.append("/logs/a.log", "more\n".getBytes()); // keeps the state dirty, so saves keep being tried
            now = pollMany(core, now);
        }
        List<Line> failed = about(lines, "/state");
        assertEquals(1, failed.size(), "one line for a state file that cannot be saved: " + head(failed));
        assertTrue(failed.get(0).text.contains("permission denied"), failed.get(0).text);

        fs.denyWrite.clear();
        lines.clear();
        mem.append("/logs/a.log", "more\n".getBytes());
        pollMany(core, now);
        assertEquals(1, about(lines, "OK again").size(), "one line when it ends: " + head(lines));
    }

    @Test
    void aServerThatNeverAnswersIsLoggedOnceNotOnEveryReconnect() throws Exception {
        MemFs mem = new MemFs();
        mem.mkdirs("/logs");
        mem.create("/logs/a.log", "hello\n".getBytes(), 1);
        List<Line> lines = new ArrayList<>();
        AgentCore core = core(new DenyingFs(mem), List.of("/logs/a.log"), null, lines);
        long now = 1_000 * NANOS_PER_MILLI;
        core.start(now);
        UnsafeBuffer out = new UnsafeBuffer(new byte[65536]);
        long until = now + 600 * 1_000 * NANOS_PER_MILLI; // ten minutes: dozens of attempts with back-off capped at 10 s
        int attempts = 0;
        while (now < until) {
            while (core.poll(out, now) > 0) {
                attempts++; // every HELLO (and its repeats) goes nowhere
            }
            now = Math.max(now + NANOS_PER_MILLI, Math.min(core.nextDeadline(), until));
        }
        List<Line> ended = about(lines, "ended (");
        assertTrue(attempts > 20, "the agent kept trying: " + attempts + " datagrams");
        assertEquals(1, ended.size(), "one line while the server stays away: " + head(ended));
    }
}
