package io.tailwire.server.store;

import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore.OpenResult;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.StreamStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.tailwire.server.store.StoreTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** Disk full, I/O errors, and the engine/writer thread split. */
class OutputStoreFaultTest {
    @TempDir
    Path tmp;
    final Log log = new Log();
    final FaultyFs fs = new FaultyFs();

    OutputStore store() throws IOException {
        return new OutputStore(fs, tmp.resolve("out"), OutputStore.Config.DEFAULT, log);
    }

    @Test
    void diskFullRefusesAppendsWithOneLogLineAndRecoversByItself() throws IOException {
        byte[] data = bytes("0123456789ABCDEFGHIJ");
        OutputStore st = store();
        StoredStream s = ok(st.open("a", open("/f", 1)));
        assertTrue(append(s, 0, data, 0, 10));
        fs.failWrites = true;
        fs.partialBytes = 3; // the kernel managed a few bytes before running out
        assertFalse(append(s, 10, data, 10, 20), "gathered, but the write refused");
        assertFalse(append(s, 10, data, 10, 20), "the retry is refused too");
        assertFalse(append(s, 8, data, 8, 20));
        assertEquals(20, s.held(), "the refused bytes stay gathered in memory, to be written later");
        st.syncDirty();
        assertEquals(10, s.durable(), "nothing past the refused write is durable");
        assertEquals(3, st.diskErrors());
        assertEquals(1, log.count("No space left on device"), "one line per episode");
        assertEquals(10, read(tmp.resolve("out/a/f")).length, "partial write cut off");
        fs.failWrites = false;
        assertTrue(append(s, 10, data, 10, 20));
        assertEquals(1, log.count("works again"));
        st.syncDirty();
        assertEquals(20, s.durable());
        assertArrayEquals(data, read(tmp.resolve("out/a/f")));
        assertEquals(20, st.bytesWritten());
    }

    @Test
    void partialWriteThatCannotBeCutIsOverwrittenByTheRetryBeforeTheNextGeneration() throws IOException {
        byte[] a = bytes("generation one\n");
        OutputStore st = store();
        StoredStream g1 = ok(st.open("a", open("/f", 1)));
        assertTrue(append(g1, 0, a, 0, 5));
        fs.failWrites = true;
        fs.partialBytes = 4;
        fs.failTruncates = true;
        assertFalse(append(g1, 5, a, 5, a.length));
        assertEquals(9, read(tmp.resolve("out/a/f")).length, "4 stray bytes past the written end");
        fs.failWrites = false;
        fs.failTruncates = false;
        // The next generation starts where generation 1 really ends: the gathered bytes are written first,
        // over the stray ones, and the new generation follows them.
        st.syncDirty();
        StoredStream g2 = ok(st.open("a", open("/f", 2, FileIdentity.getDefaultInstance(), a.length)));
        assertEquals(a.length, g1.held());
        assertTrue(append(g2, 0, bytes("two")));
        st.close();
        assertArrayEquals(bytes("generation one\ntwo"), read(tmp.resolve("out/a/f")));
    }

    @Test
    void appendsAreGatheredAndWrittenOncePerFilePerFlush() throws IOException {
        OutputStore st = store();
        StoredStream f = ok(st.open("a", open("/f", 1)));
        StoredStream g = ok(st.open("a", open("/g", 1)));
        int before = fs.writes.get();
        byte[] data = bytes("0123456789abcdefghij");
        for (int i = 0; i < 20; i += 5) {
            assertTrue(f.append(i, buffer(data), i, 5));
            assertTrue(g.append(i, buffer(data), i, 5));
        }
        assertEquals(before, fs.writes.get(), "nothing written before the flush");
        assertEquals(20, f.held());
        assertEquals(0, read(tmp.resolve("out/a/f")).length);
        assertTrue(st.flush());
        assertEquals(before + 2, fs.writes.get(), "one write per file");
        st.syncDirty();
        assertEquals(20, f.durable());
        assertArrayEquals(data, read(tmp.resolve("out/a/f")));
        assertArrayEquals(data, read(tmp.resolve("out/a/g")));
        assertTrue(st.flush(), "nothing left to write");
        assertEquals(before + 2, fs.writes.get());
    }

    @Test
    void failedForceKeepsDurableBackAndIsRetriedWithoutNewAppends() throws IOException {
        OutputStore st = store();
        StoredStream s = ok(st.open("a", open("/f", 1)));
        append(s, 0, bytes("abcdef"));
        fs.failForces = true;
        assertEquals(0, st.syncDirty());
        assertEquals(1, st.forcesFailing(), "for /ready: a file that cannot be forced");
        assertEquals(0, st.syncDirty());
        assertEquals(1, st.forcesFailing(), "still failing, counted once");
        assertEquals(0, s.durable());
        assertEquals(1, log.count("cannot force output"));
        OpenResult blocked = st.open("a", open("/f", 1));
        assertEquals(StreamStatus.STORAGE_ERROR, blocked.status(), "no resume offset that is not durable");
        assertNull(blocked.stream());
        fs.failForces = false;
        assertEquals(1, st.syncDirty(), "retried from the pending list");
        assertEquals(0, st.forcesFailing());
        assertEquals(6, s.durable());
        assertEquals(1, log.count("forcing output works again"));
        assertEquals(6, st.open("a", open("/f", 1)).resumeOffset());
    }

    @Test
    void openFailureIsStorageErrorAndRetryable() throws IOException {
        OutputStore st = store();
        fs.failOpens = true;
        OpenResult r = st.open("a", open("/f", 1));
        assertEquals(StreamStatus.STORAGE_ERROR, r.status());
        assertEquals(0, st.openFiles());
        fs.failOpens = false;
        ok(st.open("a", open("/f", 1)));
        assertEquals(1, st.openFiles());
    }

    /**
     * One engine thread appends while a writer thread runs group commits. Whatever durable offset
     * either thread sees must survive a power loss taken right after, and durable never passes held.
     */
    @Test
    void concurrentAppendAndSyncNeverReportUnforcedBytesAsDurable() throws Exception {
        long seed = 77;
        Random rnd = new Random(seed);
        byte[] data = new byte[400_000];
        rnd.nextBytes(data);
        OutputStore st = store();
        StoredStream s = ok(st.open("a", open("/f", 1)));
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> violation = new AtomicReference<>();
        AtomicLong maxDurableSeen = new AtomicLong();
        AtomicLong syncs = new AtomicLong();
        Thread writer = new Thread(() -> {
            while (!done.get()) {
                st.syncDirty();
                syncs.incrementAndGet();
                long d = s.durable();
                long h = s.held();
                if (d > h) {
                    violation.compareAndSet(null, "writer saw durable " + d + " > held " + h);
                }
                maxDurableSeen.accumulateAndGet(d, Math::max);
            }
        }, "writer");
        writer.start();
        int at = 0;
        while (at < data.length) {
            int back = Math.min(at, rnd.nextInt(50));
            int len = 1 + rnd.nextInt(1400);
            int to = Math.min(data.length, at + len);
            assertTrue(append(s, at - back, data, at - back, to));
            at = to;
            long d = s.durable();
            long h = s.held();
            assertTrue(d <= h, "engine saw durable " + d + " > held " + h);
            maxDurableSeen.accumulateAndGet(d, Math::max);
        }
        done.set(true);
        writer.join();
        assertNull(violation.get(), "seed " + seed);
        long durableAtCrash = Math.max(maxDurableSeen.get(), s.durable());
        fs.powerLoss();
        byte[] survived = read(tmp.resolve("out/a/f"));
        assertTrue(survived.length >= durableAtCrash, "seed " + seed + ": survived " + survived.length
            + " < durable " + durableAtCrash);
        assertArrayEquals(prefix(data, survived.length), survived);

        OutputStore after = store();
        OpenResult r = after.open("a", open("/f", 1));
        assertEquals(survived.length, r.resumeOffset());
        append(r.stream(), r.resumeOffset(), data, (int) r.resumeOffset(), data.length);
        after.syncDirty();
        assertEquals(data.length, r.stream().durable());
        assertEquals(r.stream().held(), r.stream().durable(), "ends equal");
        assertArrayEquals(data, read(tmp.resolve("out/a/f")));
        assertTrue(syncs.get() > 0);
    }

    @Test
    void shutdownCountsWhatItCouldNotMakeDurable() throws IOException {
        // A graceful stop must not call data durable that is not (issue 11 item 4).
        OutputStore st = store();
        StoredStream s = ok(st.open("a", open("/f", 1)));
        append(s, 0, bytes("abcdef"));
        fs.failForces = true;
        assertEquals(6, st.shutdown());
        fs.failForces = false;
        OutputStore clean = store();
        append(ok(clean.open("a", open("/g", 1))), 0, bytes("xyz"));
        assertEquals(0, clean.shutdown());
    }

    @Test
    void aCloseThatCannotBeRecordedIsRefusedAndLoggedOnceUntilItWorks() throws IOException {
        OutputStore st = store();
        StoredStream s = ok(st.open("a", open("/f", 1)));
        append(s, 0, bytes("abc"));
        st.syncDirty();
        fs.failForces = true; // the index cannot be made durable
        assertFalse(s.close(3));
        assertFalse(s.close(3));
        assertEquals(-1, s.finalLength(), "not closed: STREAM_CLOSED must not be sent");
        assertEquals(1, log.count("cannot record the close of generation 1"));
        fs.failForces = false;
        assertTrue(s.close(3));
        assertEquals(3, s.finalLength());
        assertEquals(1, log.count("close of generation 1 recorded after all"));
        st.close();
    }
}
