package io.tailwire.agent;

import io.tailwire.wire.Fingerprint;
import static io.tailwire.agent.TailerRealFsTest.concat;
import static io.tailwire.agent.TailerRealFsTest.lines;
import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.proto.AgentState;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.TrackedFile;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tailer cases that need control the real file system does not give (inode numbers, many rotations). */
class TailerMemFsTest {
    static final long GRACE = 2_000 * NANOS_PER_MILLI;
    static final String LOG = "/var/log/app.log";

    final MemFs fs = new MemFs();
    final List<TailEvent> events = new ArrayList<>();

    TailerMemFsTest() {
        fs.mkdirs("/var/log");
    }

    FakeRuntime runtime(TailerConfig cfg) {
        return new FakeRuntime(new Tailer(fs, cfg, events::add), events);
    }

    FakeRuntime runtime() {
        return runtime(TailerConfig.of(List.of(LOG)).withRotationGraceNanos(GRACE));
    }

    static FileIdentity identityOf(long ino, byte[] content) {
        int n = Math.min(content.length, FileIdentities.FINGERPRINT_MAX);
        return FileIdentities.identity(new io.tailwire.io.FileKey(MemFs.DEVICE, ino), n,
            Fingerprint.of(content, 0, n));
    }

    @Test
    void inodeReuseWithOtherContentIsANewGenerationShippedFromOffsetZero() throws Exception {
        byte[] old = lines("old", 3000);
        byte[] now = lines("new", 2000);
        fs.create(LOG, now, 100); // same device and inode as the saved generation, other bytes
        AgentState saved = AgentState.newBuilder().addFiles(TrackedFile.newBuilder().setPath(LOG).setGeneration(4)
            .setIdentity(identityOf(100, old)).setDurableOffset(1500).setReadOffset(1500)).build();
        FakeRuntime rt = runtime();
        rt.tailer.restore(saved, 0);
        rt.run(0, 5 * NANOS_PER_MILLI, NANOS_PER_MILLI);

        // Generation 4's file is gone: it ends at what the server held, and nothing of it is re-read.
        assertEquals(LOG + "#4:1500:0", rt.closedLog.get(0));
        assertEquals(0, rt.bytes(LOG, 4).length);
        assertArrayEquals(now, rt.bytes(LOG, 5), "the new file is shipped whole, not from offset 1500");
        assertTrue(events.stream().anyMatch(e -> e.kind() == TailEvent.Kind.RESTORED && e.reason().contains("reuses")),
            events.toString());
    }

    @Test
    void aFileTruncatedInPlaceThenRenamedWhileTheAgentWasDownShipsItsNewContentAsTheNextGeneration() throws Exception {
        // Issue 11 item 10: `> app.log`, some writes, then logrotate's rename, all while the agent was down.
        // The renamed file has the saved generation's inode but other first bytes: what was written after the
        // truncation exists only there, and used to be neither shipped nor reported lost.
        byte[] old = lines("old", 3000);
        byte[] mid = lines("mid", 1200);
        byte[] cur = lines("cur", 700);
        fs.create(LOG + ".1", mid, 100);
        fs.create(LOG, cur, 101);
        AgentState saved = AgentState.newBuilder().addFiles(TrackedFile.newBuilder().setPath(LOG).setGeneration(4)
            .setIdentity(identityOf(100, old)).setDurableOffset(1500).setReadOffset(1500)).build();
        FakeRuntime rt = runtime();
        rt.tailer.restore(saved, 0);
        rt.run(0, 3 * GRACE, 10 * NANOS_PER_MILLI);

        assertEquals(LOG + "#4:1500:0", rt.closedLog.get(0), "the old content ends where the server held it");
        assertArrayEquals(mid, rt.bytes(LOG, 5), "the post-truncation content is the next generation");
        assertArrayEquals(cur, rt.bytes(LOG, 6), "then the file now at the path");
    }

    // ------------------------------------------------ copytruncate: the rest of a generation from its copy (issue 13 item 13)

    static TrackedFile saved(long ino, byte[] content, long durable, long sizeSeen) {
        return TrackedFile.newBuilder().setPath(LOG).setGeneration(4).setIdentity(identityOf(ino, content))
            .setDurableOffset(durable).setReadOffset(durable).setSizeSeen(sizeSeen).build();
    }

    @Test
    void copytruncateWhileTheAgentWasDownShipsTheRestOfTheGenerationFromTheCopy() throws Exception {
        // The agent saw 2,000 bytes, the server held 1,500, the generation grew to 3,000 before logrotate copied it
        // to app.log.1 and truncated app.log in place (same inode, new lines since). Those 1,500 bytes used to be
        // lost without a word ("reuses its inode with other content").
        byte[] old = lines("old", 3000);
        byte[] cur = lines("cur", 700);
        fs.create(LOG, cur, 100);
        fs.create(LOG + ".1", old, 101);
        FakeRuntime rt = runtime();
        rt.tailer.restore(AgentState.newBuilder().addFiles(saved(100, old, 1500, 2000)).build(), 0);
        rt.run(0, 3 * GRACE, 10 * NANOS_PER_MILLI);

        assertArrayEquals(Arrays.copyOfRange(old, 1500, old.length), rt.bytes(LOG, 4),
            "the rest of generation 4, from the copy, as generation 4");
        assertEquals(LOG + "#4:3000:0", rt.closedLog.get(0), "the generation ends where the copy does");
        assertArrayEquals(cur, rt.bytes(LOG, 5), "then the truncated file's new content");
        assertEquals(List.of(), rt.events(TailEvent.Kind.LOSS), "nothing is lost");
    }

    @Test
    void copytruncateSeenWhileRunningShipsTheUnreadRestFromTheCopy() throws Exception {
        byte[] head = lines("old", 1200);
        byte[] tail = lines("late", 1800);
        byte[] cur = lines("cur", 700);
        fs.create(LOG, head, 0);
        FakeRuntime rt = runtime();
        rt.run(0, 5 * NANOS_PER_MILLI, NANOS_PER_MILLI);
        rt.reading = false; // the network is slow: the tail is seen but not yet read
        fs.append(LOG, tail);
        rt.step(6 * NANOS_PER_MILLI);
        byte[] old = concat(head, tail);
        fs.create(LOG + ".1", old, 0);
        fs.truncateTo(LOG, 0);
        fs.append(LOG, cur);
        rt.reading = true;
        rt.run(7 * NANOS_PER_MILLI, 3 * GRACE, 10 * NANOS_PER_MILLI);

        assertArrayEquals(old, rt.bytes(LOG, 1), "generation 1 whole: the unread tail came from the copy");
        assertArrayEquals(cur, rt.bytes(LOG, 2));
        assertEquals(List.of(), rt.events(TailEvent.Kind.LOSS));
    }

    @Test
    void noCopyReportsTheBytesSeenAndThenALossOfUnknownSizeAtTheEndOfWhatTheAgentSaw() throws Exception {
        // Truncated in place while the agent was down and no copy anywhere: [1500, 2000) is known gone, and
        // whatever was written after the agent's last look may be too. That used to be reported as nothing.
        byte[] old = lines("old", 3000);
        fs.create(LOG, lines("cur", 700), 100);
        FakeRuntime rt = runtime();
        rt.tailer.restore(AgentState.newBuilder().addFiles(saved(100, old, 1500, 2000)).build(), 0);
        Generation g = rt.tailer.currentShippable(LOG);
        assertEquals(List.of(), rt.events(TailEvent.Kind.LOSS), "nothing is known before the server's offset");
        rt.tailer.seek(g, 1500);

        List<TailEvent> loss = rt.events(TailEvent.Kind.LOSS);
        assertEquals(2, loss.size(), loss.toString());
        assertEquals(List.of(1500L, 2000L, false), List.of(loss.get(0).from(), loss.get(0).to(), loss.get(0).unknownSize()));
        assertEquals(List.of(2000L, 2000L, true), List.of(loss.get(1).from(), loss.get(1).to(), loss.get(1).unknownSize()));
        assertEquals(1500, g.finalLength(), "the generation closes at the lowest offset reported");
    }

    @Test
    void aFileDeletedWhileTheAgentWasDownIsReportedAsALossOfUnknownSizeWhereTheServerStands() throws Exception {
        // The server already held everything the agent had seen: no known loss, but the file may have grown.
        FakeRuntime rt = runtime();
        rt.tailer.restore(AgentState.newBuilder().addFiles(saved(100, lines("old", 3000), 1500, 1500)).build(), 0);
        rt.tailer.seek(rt.tailer.currentShippable(LOG), 1800); // and, from a stale state file, more than it knew

        List<TailEvent> loss = rt.events(TailEvent.Kind.LOSS);
        assertEquals(1, loss.size(), loss.toString());
        assertEquals(List.of(1800L, 1800L, true), List.of(loss.get(0).from(), loss.get(0).to(), loss.get(0).unknownSize()));
    }

    @Test
    void aCopyTheGlobAlsoMatchesIsShippedOnceAsTheRestOfItsGenerationNotAsAPathOfItsOwn() throws Exception {
        TailerConfig cfg = TailerConfig.of(List.of("/var/log/app.log*")).withRotationGraceNanos(GRACE)
            .withDiscoveryIntervalNanos(0);
        FakeRuntime rt = runtime(cfg);
        byte[] head = lines("old", 1300);
        byte[] tail = lines("late", 900);
        byte[] cur = lines("cur", 500);
        fs.create(LOG, head, 0);
        rt.run(0, 5 * NANOS_PER_MILLI, NANOS_PER_MILLI);
        rt.reading = false;
        fs.append(LOG, tail);
        byte[] old = concat(head, tail);
        fs.create(LOG + ".1", old, 0);
        rt.step(6 * NANOS_PER_MILLI); // the copy is there before the truncation: the glob walk sees it first
        fs.truncateTo(LOG, 0);
        fs.append(LOG, cur);
        rt.reading = true;
        rt.run(7 * NANOS_PER_MILLI, 3 * GRACE, 10 * NANOS_PER_MILLI);
        assertEquals(List.of(LOG + "#1", LOG + "#2"), new ArrayList<>(rt.shipped.keySet()));
        assertArrayEquals(old, rt.bytes(LOG, 1));
        assertArrayEquals(cur, rt.bytes(LOG, 2));

        // After a restart (and a second rotation renaming the copy) it is still known: nothing ships again.
        AgentState state = rt.tailer.snapshot();
        rt.tailer.close();
        fs.move(LOG + ".1", LOG + ".2");
        FakeRuntime again = runtime(cfg);
        again.tailer.restore(state, 0);
        again.run(4 * GRACE, 5 * GRACE, 10 * NANOS_PER_MILLI);
        // (This runtime never records durable offsets, so the active generation is read again from 0.)
        assertEquals(List.of(LOG + "#2"), new ArrayList<>(again.shipped.keySet()), "the copy is not a path");
        assertEquals(List.of(), rt.events(TailEvent.Kind.LOSS));
    }

    @Test
    void aFileOfAnotherNameReusingTheSavedInodeIsNotShippedAsThePathsGeneration() throws Exception {
        // Inode reuse by an unrelated file (deleted, then another log created) must not be taken for a
        // truncation followed by a rotation: only a rotated name of the path (app.log.1, app.log-2024...) is.
        byte[] old = lines("old", 3000);
        byte[] other = lines("oth", 900);
        byte[] cur = lines("cur", 700);
        fs.create("/var/log/other.log", other, 100);
        fs.create(LOG, cur, 101);
        AgentState saved = AgentState.newBuilder().addFiles(TrackedFile.newBuilder().setPath(LOG).setGeneration(4)
            .setIdentity(identityOf(100, old)).setDurableOffset(1500).setReadOffset(1500)).build();
        FakeRuntime rt = runtime();
        rt.tailer.restore(saved, 0);
        rt.run(0, 3 * GRACE, 10 * NANOS_PER_MILLI);

        assertEquals(LOG + "#4:1500:0", rt.closedLog.get(0));
        assertArrayEquals(cur, rt.bytes(LOG, 5), "the next generation is the file at the path");
        assertEquals(2, rt.closedLog.size() + rt.tailer.generations().size(), rt.closedLog.toString());
    }

    @Test
    void aRotatedFileAlreadyShippedIsNotPickedUpAgainButAFileReusingItsInodeIs() throws Exception {
        // A glob that also matches rotated names. (Inode reuse while the tailer holds the file open cannot
        // happen: the open handle keeps the inode allocated. It can once the handle is closed.)
        FakeRuntime rt = runtime(TailerConfig.of(List.of("/var/log/app.log*")).withRotationGraceNanos(GRACE)
            .withDiscoveryIntervalNanos(0));
        byte[] a = lines("a", 1500);
        byte[] b = lines("b", 300);
        MemFs.Inode first = fs.create(LOG, a, 0);
        rt.step(0);
        fs.move(LOG, LOG + ".1");
        fs.create(LOG, b, 0);
        rt.run(NANOS_PER_MILLI, 3 * GRACE, 10 * NANOS_PER_MILLI);
        assertEquals(2, rt.shipped.size(), rt.shipped.keySet().toString());
        // The rotated file is deleted and its inode number reused by a new file under the same name.
        fs.remove(LOG + ".1");
        byte[] c = lines("c", 1600);
        fs.create(LOG + ".1", c, first.ino);
        rt.run(4 * GRACE, 4 * GRACE + 10 * NANOS_PER_MILLI, NANOS_PER_MILLI);
        assertArrayEquals(a, rt.bytes(LOG, 1));
        assertArrayEquals(b, rt.bytes(LOG, 2));
        assertArrayEquals(c, rt.bytes(LOG + ".1", 1));
    }

    @Test
    void overTheHandleLimitTheOldestRotatedGenerationIsDroppedWithALossEvent() throws Exception {
        FakeRuntime rt = runtime(TailerConfig.of(List.of(LOG)).withRotationGraceNanos(GRACE).withMaxRotatedHandles(2));
        rt.reading = false; // the network is down: nothing is shipped, rotations pile up
        List<byte[]> contents = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byte[] c = lines("gen" + i, 100 + 10 * i);
            contents.add(c);
            fs.create(LOG, c, 0);
            rt.step(i * NANOS_PER_MILLI);
        }
        // Generations 1..3 are rotated away, 4 is current; the limit of 2 drops generation 1.
        List<TailEvent> loss = rt.events(TailEvent.Kind.LOSS);
        assertEquals(1, loss.size(), events.toString());
        assertEquals(1, loss.get(0).generation());
        assertEquals(0, loss.get(0).from());
        assertEquals(contents.get(0).length, loss.get(0).to());
        assertEquals(3, rt.tailer.openHandles());

        rt.reading = true;
        rt.run(10 * NANOS_PER_MILLI, 10 * NANOS_PER_MILLI + 3 * GRACE, 10 * NANOS_PER_MILLI);
        assertEquals(LOG + "#1:0:0", rt.closedLog.get(0));
        for (int i = 1; i < 4; i++) {
            assertArrayEquals(contents.get(i), rt.bytes(LOG, i + 1));
        }
    }

    @Test
    void fingerprintIsRetakenWhileTheFileIsShorterThan1024Bytes() throws Exception {
        byte[] a = lines("a", 100);
        byte[] b = lines("b", 2000);
        fs.create(LOG, a, 0);
        FakeRuntime rt = runtime();
        rt.step(0);
        Generation g = rt.tailer.currentShippable(LOG);
        assertEquals(100, g.identity().getFingerprintLength());
        assertEquals(Fingerprint.of(a, 0, a.length), g.identity().getFingerprint());
        fs.append(LOG, b);
        rt.step(NANOS_PER_MILLI);
        byte[] all = concat(a, b);
        assertEquals(1024, g.identity().getFingerprintLength());
        assertEquals(Fingerprint.of(all, 0, 1024), g.identity().getFingerprint());
        assertEquals(1, rt.tailer.generations().size(), "growth is not a new generation");
    }

    @Test
    void rewriteOfTheFirstBytesAtTheSameSizeIsATruncation() throws Exception {
        byte[] a = lines("a", 500);
        fs.create(LOG, a, 0);
        FakeRuntime rt = runtime();
        rt.step(0);
        // Short file replaced in place by other content of a greater length.
        fs.truncateTo(LOG, 0);
        byte[] b = lines("B", 600);
        fs.append(LOG, b);
        rt.run(NANOS_PER_MILLI, 3 * NANOS_PER_MILLI, NANOS_PER_MILLI);
        assertArrayEquals(a, rt.bytes(LOG, 1));
        assertArrayEquals(b, rt.bytes(LOG, 2));
        assertTrue(rt.events(TailEvent.Kind.LOSS).isEmpty());
    }

    @Test
    void seekBelowWhatATruncatedGenerationStillHasReportsTheGapAndEndsThere() throws Exception {
        byte[] a = lines("a", 3000);
        fs.create(LOG, a, 0);
        FakeRuntime rt = runtime();
        rt.step(0);
        Generation g1 = rt.tailer.currentShippable(LOG);
        fs.truncateTo(LOG, 0);
        rt.reading = false;
        rt.step(NANOS_PER_MILLI);
        assertEquals(3000, g1.finalLength());
        // Reconnect: the server holds only 1200 bytes; the rest was in flight and the file no longer has it.
        assertEquals(1200, rt.tailer.seek(g1, 1200));
        assertEquals(1200, g1.finalLength());
        assertTrue(g1.fullyRead());
        TailEvent loss = rt.events(TailEvent.Kind.LOSS).get(0);
        assertEquals(List.of(1200L, 3000L), List.of(loss.from(), loss.to()));
        assertEquals(-1, rt.tailer.read(g1, ByteBuffer.allocate(10)));
    }

    @Test
    void nextGenerationIsNotShippableBeforeThePreviousIsClosed() throws Exception {
        fs.create(LOG, lines("a", 10), 0);
        FakeRuntime rt = runtime();
        rt.step(0);
        fs.create(LOG, lines("b", 10), 0);
        rt.reading = false;
        rt.run(NANOS_PER_MILLI, 3 * GRACE, 10 * NANOS_PER_MILLI);
        Generation head = rt.tailer.currentShippable(LOG);
        assertEquals(1, head.number());
        assertTrue(head.fullyRead());
        assertTrue(rt.tailer.readable().isEmpty(), "generation 2 is not offered while 1 is open");
        assertEquals(List.of(head), rt.tailer.shippable());
        rt.tailer.closed(head);
        Generation next = rt.tailer.currentShippable(LOG);
        assertEquals(2, next.number());
        assertEquals(10, next.previousLength());
        assertThrows(IllegalStateException.class, () -> rt.tailer.closed(next), "the active generation cannot close");
    }

    @Test
    void aStaleRotatedHeadCanBeClosedBeforeItsGracePeriodEnds() throws Exception {
        fs.create(LOG, lines("a", 10), 0);
        FakeRuntime rt = runtime();
        rt.reading = false;
        rt.step(0);
        fs.create(LOG, lines("b", 10), 0);
        rt.step(NANOS_PER_MILLI);
        Generation head = rt.tailer.currentShippable(LOG);
        assertEquals(Generation.State.ROTATED, head.state());
        rt.tailer.closed(head); // STALE_GENERATION: the server holds a newer generation
        assertEquals(2, rt.tailer.currentShippable(LOG).number());
        assertEquals(0, rt.tailer.currentShippable(LOG).previousLength());
    }

    @Test
    void adoptedGenerationNumbersRenumberTheQueueAndAreSaved() throws Exception {
        fs.create(LOG, lines("a", 10), 0);
        FakeRuntime rt = runtime();
        rt.reading = false;
        rt.step(0);
        fs.create(LOG, lines("b", 10), 0);
        rt.step(NANOS_PER_MILLI);
        List<Generation> gens = rt.tailer.generations();
        assertFalse(gens.get(0).numberConfirmed());
        assertEquals(0, rt.tailer.snapshot().getFiles(0).getGeneration(), "provisional numbers are saved as 0");
        rt.tailer.adoptGeneration(gens.get(0), 7);
        assertEquals(List.of(7L, 8L), List.of(gens.get(0).number(), gens.get(1).number()));
        assertTrue(gens.get(1).numberConfirmed());
        assertEquals(7, rt.tailer.snapshot().getFiles(0).getGeneration());
        fs.create(LOG, lines("c", 10), 0);
        rt.step(2 * NANOS_PER_MILLI);
        assertEquals(9, rt.tailer.generations().get(2).number());
        assertNotEquals(0, rt.tailer.snapshot().getFiles(2).getGeneration());
    }

    @Test
    void readableOrderIsFairAcrossPaths() throws Exception {
        String other = "/var/log/other.log";
        fs.create(LOG, lines("a", 5000), 0);
        fs.create(other, lines("b", 5000), 0);
        Tailer t = new Tailer(fs, TailerConfig.of(List.of(LOG, other)), events::add);
        t.scan(0);
        List<String> order = new ArrayList<>();
        ByteBuffer buf = ByteBuffer.allocate(1000);
        for (int i = 0; i < 6; i++) {
            Generation g = t.readable().get(0);
            order.add(g.path());
            buf.clear();
            t.read(g, buf);
        }
        assertEquals(List.of(LOG, other, LOG, other, LOG, other), order);
    }

    @Test
    void restoreFromASnapshotContinuesNumberingAndResumesTheOpenGeneration() throws Exception {
        byte[] a = lines("a", 700);
        byte[] b1 = lines("b1", 2000);
        byte[] b2 = lines("b2", 500);
        fs.create(LOG, a, 0);
        FakeRuntime rt = runtime();
        rt.step(0);
        fs.move(LOG, LOG + ".1");
        fs.create(LOG, b1, 0);
        rt.chunk = 1200;
        rt.run(NANOS_PER_MILLI, 3 * GRACE, 100 * NANOS_PER_MILLI); // generation 1 closed; generation 2 partly read
        Generation g2 = rt.tailer.currentShippable(LOG);
        assertEquals(2, g2.number());
        rt.tailer.adoptGeneration(g2, 2); // the server confirmed the number
        rt.tailer.durable(g2, 1200);
        AgentState saved = rt.tailer.snapshot();
        rt.tailer.close();
        fs.append(LOG, b2);

        events.clear();
        FakeRuntime rt2 = runtime();
        rt2.tailer.restore(saved, 0);
        Generation r = rt2.tailer.currentShippable(LOG);
        assertEquals(2, r.number());
        assertTrue(r.numberConfirmed());
        assertEquals(700, r.previousLength());
        assertEquals(Generation.State.ACTIVE, r.state());
        rt2.step(0);
        rt2.run(NANOS_PER_MILLI, 5 * NANOS_PER_MILLI, NANOS_PER_MILLI);
        byte[] all = concat(b1, b2);
        assertArrayEquals(Arrays.copyOfRange(all, 1200, all.length), rt2.bytes(LOG, 2));
        assertEquals(1, rt2.tailer.generations().size(), "the file at the path is not a new generation");
        fs.move(LOG, LOG + ".2");
        fs.create(LOG, lines("c", 5), 0);
        rt2.step(10 * NANOS_PER_MILLI);
        assertEquals(3, rt2.tailer.generations().get(1).number());
    }

    /**
     * copytruncate, the writer rewrites exactly as many bytes, and the path is deleted, all between two scans
     * (found by TailerPropertyTest, shrunk seed -123): the size never changed, so only the first bytes tell.
     * The old content was read: it stays generation 1; the new content is generation 2, shipped in full.
     */
    @Test
    void aFileRewrittenToTheSameLengthThenDeletedShipsTheNewContentAsTheNextGeneration() throws Exception {
        byte[] before = lines("before", 17);
        byte[] after = lines("after!", 17);
        assertEquals(before.length, after.length);
        fs.create(LOG, before, 0);
        FakeRuntime rt = runtime();
        rt.step(0);
        assertArrayEquals(before, rt.bytes(LOG, 1));
        fs.truncateTo(LOG, 0);
        fs.append(LOG, after);
        fs.remove(LOG);
        rt.run(NANOS_PER_MILLI, 4 * GRACE, 100 * NANOS_PER_MILLI);
        assertArrayEquals(before, rt.bytes(LOG, 1));
        assertArrayEquals(after, rt.bytes(LOG, 2), "events " + events);
        assertTrue(rt.events(TailEvent.Kind.LOSS).isEmpty(), "nothing was lost: " + events);
    }

    /** The same, with the old content never read: it is reported lost, the new content shipped. */
    @Test
    void anUnreadFileRewrittenToTheSameLengthThenDeletedReportsTheOldBytesLost() throws Exception {
        byte[] before = lines("before", 17);
        byte[] after = lines("after!", 17);
        fs.create(LOG, before, 0);
        FakeRuntime rt = runtime();
        rt.reading = false;
        rt.step(0);
        rt.reading = true;
        fs.truncateTo(LOG, 0);
        fs.append(LOG, after);
        fs.remove(LOG);
        rt.run(NANOS_PER_MILLI, 4 * GRACE, 100 * NANOS_PER_MILLI);
        long lost = 0;
        for (TailEvent e : rt.events(TailEvent.Kind.LOSS)) {
            assertEquals(1, e.generation(), "events " + events);
            lost += e.to() - e.from();
        }
        assertEquals(before.length - rt.bytes(LOG, 1).length, lost, "events " + events);
        assertArrayEquals(after, rt.bytes(LOG, 2), "events " + events);
    }
}
