package io.tailwire.server.store;

import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore.OpenResult;
import io.tailwire.io.Fs;
import io.tailwire.io.RealFs;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.StreamStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static io.tailwire.server.store.StoreTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** Crashes: a dropped store object (process kill) on RealFs, and power loss on FaultyFs. */
class OutputStoreCrashTest {
    @TempDir
    Path tmp;
    final Log log = new Log();

    OutputStore store(Fs fs) throws IOException {
        return new OutputStore(fs, tmp.resolve("out"), OutputStore.Config.DEFAULT, log);
    }

    static byte[] random(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    @Test
    void killedProcessResumesAtHeldThenForcedAndGenerationsConcatenate() throws IOException {
        Random rnd = new Random(1);
        byte[] a = random(rnd, 200);
        byte[] b = random(rnd, 120);
        Path file = tmp.resolve("out/web1/var/log/app.log");

        OutputStore first = store(RealFs.INSTANCE);
        StoredStream s = ok(first.open("web1", open("/var/log/app.log", 1)));
        assertTrue(append(s, 0, a, 0, 100));
        first.syncDirty();
        long durableBeforeCrash = s.durable();
        assertTrue(append(s, 100, a, 100, 150)); // written, not forced
        // kill -9: the object is dropped without close; the OS still has the written bytes.

        OutputStore second = store(RealFs.INSTANCE);
        OpenResult r = second.open("web1", open("/var/log/app.log", 1));
        assertEquals(StreamStatus.OK, r.status());
        assertTrue(r.resumeOffset() >= durableBeforeCrash);
        assertEquals(150, r.resumeOffset(), "held bytes survive a process crash and are forced at open");
        assertEquals(150, r.stream().durable());
        // The agent resends from the resume offset, overlapping a little as a retransmission would.
        assertTrue(append(r.stream(), 140, a, 140, 200));
        OpenResult r2 = second.open("web1", open("/var/log/app.log", 2, FileIdentity.getDefaultInstance(), 200));
        assertEquals(0, r2.resumeOffset());
        assertTrue(append(r2.stream(), 0, b, 0, 60));
        second.syncDirty();

        OutputStore third = store(RealFs.INSTANCE);
        assertEquals(StreamStatus.STALE_GENERATION, third.open("web1", open("/var/log/app.log", 1)).status());
        OpenResult r3 = third.open("web1", open("/var/log/app.log", 2));
        assertEquals(2, r3.generation());
        assertEquals(60, r3.resumeOffset());
        assertTrue(append(r3.stream(), r3.resumeOffset(), b, 60, 120));
        third.close();
        assertArrayEquals(concat(a, b), read(file), "each byte once, generations in order");
        first.close();
        second.close();
    }

    @Test
    void powerLossKeepsExactlyTheDurableBytes() throws IOException {
        FaultyFs fs = new FaultyFs();
        Random rnd = new Random(2);
        byte[] a = random(rnd, 300);
        OutputStore st = store(fs);
        StoredStream s = ok(st.open("a", open("/f", 1)));
        append(s, 0, a, 0, 100);
        st.syncDirty();
        append(s, 100, a, 100, 180);
        assertEquals(100, s.durable());
        fs.powerLoss();

        OutputStore after = store(fs);
        OpenResult r = after.open("a", open("/f", 1));
        assertEquals(100, r.resumeOffset(), "unforced bytes are gone, forced ones are not");
        append(r.stream(), 100, a, 100, 300);
        after.syncDirty();
        fs.powerLoss();
        assertArrayEquals(a, read(tmp.resolve("out/a/f")));
    }

    @Test
    void powerLossRightAfterANewGenerationKeepsItsStart() throws IOException {
        FaultyFs fs = new FaultyFs();
        byte[] a = bytes("first generation\n");
        byte[] b = bytes("second\n");
        OutputStore st = store(fs);
        StoredStream g1 = ok(st.open("a", open("/f", 1)));
        append(g1, 0, a);
        // No syncDirty: opening generation 2 must itself make generation 1 durable before recording.
        StoredStream g2 = ok(st.open("a", open("/f", 2, FileIdentity.getDefaultInstance(), a.length)));
        append(g2, 0, bytes("lost"));
        fs.powerLoss();

        OutputStore after = store(fs);
        OpenResult r = after.open("a", open("/f", 2));
        assertEquals(StreamStatus.OK, r.status());
        assertEquals(0, r.resumeOffset());
        append(r.stream(), 0, b);
        after.close();
        assertArrayEquals(concat(a, b), read(tmp.resolve("out/a/f")));
    }

    @Test
    void generationStartBeyondTheOutputIsMovedToItsEnd() throws IOException {
        Path file = tmp.resolve("out/a/f");
        OutputStore st = store(RealFs.INSTANCE);
        append(ok(st.open("a", open("/f", 1))), 0, bytes("0123456789"));
        append(ok(st.open("a", open("/f", 2, FileIdentity.getDefaultInstance(), 10))), 0, bytes("xy"));
        st.close();
        // A disk that lied about a force: the output lost bytes the index says were there.
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(4);
        }
        OutputStore after = store(RealFs.INSTANCE);
        OpenResult r = after.open("a", open("/f", 2));
        assertEquals(StreamStatus.OK, r.status());
        assertEquals(0, r.resumeOffset(), "generation 2 now starts at the end of what is there");
        assertEquals(1, log.count("starting it at the end"));
        append(r.stream(), 0, bytes("XY"));
        after.close();
        assertArrayEquals(bytes("0123XY"), read(file));
        OutputStore third = store(RealFs.INSTANCE);
        assertEquals(2, third.open("a", open("/f", 2)).resumeOffset(), "the corrected index was persisted");
        assertEquals(1, log.count("starting it at the end"));
        third.close();
    }

    @Test
    void corruptIndexIsAStorageErrorNotAFreshStart() throws IOException {
        OutputStore st = store(RealFs.INSTANCE);
        append(ok(st.open("a", open("/f", 1))), 0, bytes("data"));
        st.close();
        try (var files = Files.list(tmp.resolve("out/a/.tailwire"))) {
            for (Path idx : files.toList()) {
                Files.write(idx, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
            }
        }
        OutputStore after = store(RealFs.INSTANCE);
        OpenResult r = after.open("a", open("/f", 1));
        assertEquals(StreamStatus.STORAGE_ERROR, r.status());
        assertArrayEquals(bytes("data"), read(tmp.resolve("out/a/f")), "output untouched");
        after.close();
    }

    /**
     * Random sessions of appends (with overlapping resends), group commits, rotations, agent state loss
     * (generation 0) and power losses. After every crash the output must be the finished generations
     * followed by a prefix of the current one that is at least as long as the durable offset last seen,
     * and at the end every byte must be there exactly once, in order.
     */
    @Test
    void randomCrashesNeverLoseDurableBytesOrDuplicateAny() throws IOException {
        long base = 0x5EEDL;
        for (int i = 0; i < 25; i++) {
            long seed = base + i;
            Path dir = Files.createDirectories(tmp.resolve("run" + i));
            try {
                new CrashModel(seed, dir).run(150);
            } catch (AssertionError | RuntimeException | IOException e) {
                throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
            }
        }
    }

    private final class CrashModel {
        final Random rnd;
        final Path out;
        final FaultyFs fs = new FaultyFs();
        final String[] paths = {"/p0", "/d/p1"};
        final Agent[] agents = new Agent[paths.length];
        OutputStore store;

        CrashModel(long seed, Path dir) throws IOException {
            rnd = new Random(seed);
            out = dir.resolve("out");
            store = new OutputStore(fs, out, OutputStore.Config.DEFAULT, log);
            for (int i = 0; i < paths.length; i++) {
                agents[i] = new Agent(i);
            }
        }

        final class Agent {
            final int idx;
            long gen = 1;
            byte[] content;
            byte[] finished = new byte[0]; // all earlier generations, back to back
            StoredStream stream;
            long sent;
            long durableSeen;

            Agent(int idx) {
                this.idx = idx;
                content = random(rnd, rnd.nextInt(2500));
            }

            FileIdentity identity() {
                return identity(7, 1000L * idx + gen, content);
            }

            private FileIdentity identity(long dev, long ino, byte[] c) {
                return StoreTestSupport.identity(dev, ino, c);
            }

            void ensureOpen() {
                if (stream != null) {
                    return;
                }
                boolean lostState = rnd.nextInt(5) == 0;
                OpenResult r = store.open("agent", open(paths[idx], lostState ? 0 : gen, identity(), 0));
                stream = ok(r);
                assertEquals(gen, r.generation(), "resumed generation");
                assertTrue(r.resumeOffset() >= durableSeen, "resume " + r.resumeOffset() + " < durable "
                    + durableSeen);
                assertTrue(r.resumeOffset() <= content.length);
                assertEquals(r.resumeOffset(), stream.durable(), "the resume offset is durable when announced");
                durableSeen = r.resumeOffset();
                sent = r.resumeOffset();
            }

            void send() {
                ensureOpen();
                long from = Math.max(0, sent - rnd.nextInt(30));
                long to = Math.min(content.length, sent + 1 + rnd.nextInt(600));
                assertTrue(append(stream, from, content, (int) from, (int) to));
                sent = Math.max(sent, to);
                assertEquals(sent, stream.held());
            }

            void observeDurable() {
                if (stream != null) {
                    long d = stream.durable();
                    assertTrue(d <= stream.held());
                    assertTrue(d >= durableSeen, "durable went backwards");
                    durableSeen = d;
                }
            }

            void rotate() {
                ensureOpen();
                if (sent < content.length) {
                    return;
                }
                store.syncDirty();
                observeDurable();
                assertEquals(content.length, durableSeen, "closed generation fully durable");
                long prevGen = gen;
                long prevLen = content.length;
                finished = concat(finished, content);
                gen += 1 + rnd.nextInt(2);
                content = random(rnd, rnd.nextInt(2500));
                stream.release();
                OpenResult r = store.open("agent", open(paths[idx], gen, identity(), prevLen));
                stream = ok(r);
                assertEquals(0, r.resumeOffset());
                sent = 0;
                durableSeen = 0;
                assertEquals(StreamStatus.STALE_GENERATION,
                    store.open("agent", open(paths[idx], prevGen)).status());
            }

            void checkAfterCrash() throws IOException {
                byte[] file = read(out.resolve("agent").resolve(paths[idx].substring(1)));
                assertTrue(file.length >= finished.length, "finished generations survive");
                assertArrayEquals(finished, prefix(file, finished.length));
                long cur = file.length - finished.length;
                assertTrue(cur >= durableSeen, "durable bytes survive: " + cur + " < " + durableSeen);
                assertTrue(cur <= content.length);
                byte[] tail = new byte[(int) cur];
                System.arraycopy(file, finished.length, tail, 0, tail.length);
                assertArrayEquals(prefix(content, cur), tail, "no duplicate or foreign bytes");
                stream = null;
            }
        }

        void run(int steps) throws IOException {
            for (int step = 0; step < steps; step++) {
                Agent ag = agents[rnd.nextInt(agents.length)];
                int op = rnd.nextInt(100);
                if (op < 55) {
                    ag.send();
                } else if (op < 75) {
                    store.syncDirty();
                    for (Agent x : agents) {
                        x.observeDurable();
                    }
                } else if (op < 85) {
                    ag.rotate();
                } else if (op < 90 && ag.stream != null) {
                    ag.stream.release();
                    ag.stream = null; // reconnect: reopen on the next send
                } else {
                    fs.powerLoss();
                    store = new OutputStore(fs, out, OutputStore.Config.DEFAULT, log);
                    for (Agent x : agents) {
                        x.checkAfterCrash();
                    }
                }
            }
            for (Agent ag : agents) {
                while (ag.sent < ag.content.length || ag.stream == null) {
                    ag.send();
                }
            }
            store.syncDirty();
            fs.powerLoss();
            for (Agent ag : agents) {
                byte[] file = read(out.resolve("agent").resolve(paths[ag.idx].substring(1)));
                assertArrayEquals(concat(ag.finished, ag.content), file, "every byte once, in order");
            }
        }
    }
}
