package io.tailwire.agent;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.io.RealFs;
import io.tailwire.proto.AgentState;
import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tailer against the real file system, driven in virtual time. */
class TailerRealFsTest {
    static final long GRACE = 2_000 * NANOS_PER_MILLI;

    @TempDir
    Path dir;
    final List<TailEvent> events = new ArrayList<>();
    Tailer tailer;

    @AfterEach
    void closeTailer() throws Exception {
        if (tailer != null) {
            tailer.close();
        }
    }

    /** Distinct, recognisable content: numbered lines tagged with the file's role. */
    static byte[] lines(String tag, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < n; i++) {
            sb.append(tag).append(" line ").append(i).append('\n');
        }
        return sb.substring(0, n).getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static void append(Path p, byte[] b) throws Exception {
        Files.write(p, b, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    FakeRuntime runtime(List<String> sources) {
        TailerConfig cfg = TailerConfig.of(sources).withRotationGraceNanos(GRACE)
            .withDiscoveryIntervalNanos(100 * NANOS_PER_MILLI);
        tailer = new Tailer(RealFs.INSTANCE, cfg, events::add);
        return new FakeRuntime(tailer, events);
    }

    @Test
    void renameCreateShipsOldFileIncludingLateWritesThenTheNewOneInOrder() throws Exception {
        Path log = dir.resolve("app.log");
        Path rotated = dir.resolve("app.log.1");
        byte[] a1 = lines("old", 5000);
        byte[] a2 = lines("old-late", 777);
        byte[] b = lines("new", 3000);
        append(log, a1);
        FakeRuntime rt = runtime(List.of(log.toString()));
        rt.chunk = 1000;
        rt.step(0);
        Files.move(log, rotated);
        append(log, b);
        rt.step(10 * NANOS_PER_MILLI);
        assertEquals(1, rt.events(TailEvent.Kind.ROTATION).size());
        // The writer still holds the old file and appends after the rotation.
        append(rotated, a2);
        long t = rt.run(20 * NANOS_PER_MILLI, GRACE - NANOS_PER_MILLI, 10 * NANOS_PER_MILLI);
        assertEquals(1, tailer.currentShippable(log.toString()).number(), "old generation still current within grace");
        rt.run(t, t + 2 * GRACE, 10 * NANOS_PER_MILLI);

        assertArrayEquals(concat(a1, a2), rt.bytes(log.toString(), 1));
        assertArrayEquals(b, rt.bytes(log.toString(), 2));
        assertEquals(List.of(log + "#1:" + (a1.length + a2.length) + ":0"), rt.closedLog);
        assertTrue(rt.log.indexOf("closed " + log + "#1") < rt.log.indexOf("read " + log + "#2"),
            "generation 2 was read only after generation 1 closed: " + rt.log);
        assertTrue(rt.events(TailEvent.Kind.LOSS).isEmpty(), "no loss: " + events);
        assertEquals(1, tailer.openHandles());
    }

    @Test
    void copytruncateStartsANewGenerationAndShipsTheUnreadRestFromTheCopy() throws Exception {
        Path log = dir.resolve("app.log");
        byte[] a = lines("before", 3000);
        byte[] b = lines("after", 500);
        FakeRuntime rt = copytruncateAfterReading1000Bytes(log, dir.resolve("app.log.1"), a, b);
        rt.run(2 * NANOS_PER_MILLI, 2 * GRACE, NANOS_PER_MILLI);

        assertEquals(1, rt.events(TailEvent.Kind.TRUNCATION).size());
        assertEquals(List.of(), rt.events(TailEvent.Kind.LOSS), "the copy holds the unread bytes");
        assertArrayEquals(a, rt.bytes(log.toString(), 1));
        assertArrayEquals(b, rt.bytes(log.toString(), 2));
        assertEquals(log + "#1:3000:0", rt.closedLog.get(0));
    }

    @Test
    void copytruncateWithTheCopyElsewhereReportsOnlyUnreadBytesLost() throws Exception {
        // logrotate's olddir: the copy is not beside the path, so it is not looked for.
        Path log = dir.resolve("app.log");
        Files.createDirectories(dir.resolve("old"));
        byte[] a = lines("before", 3000);
        byte[] b = lines("after", 500);
        FakeRuntime rt = copytruncateAfterReading1000Bytes(log, dir.resolve("old/app.log.1"), a, b);
        rt.run(2 * NANOS_PER_MILLI, 3 * NANOS_PER_MILLI, NANOS_PER_MILLI);

        assertEquals(1, rt.events(TailEvent.Kind.TRUNCATION).size());
        List<TailEvent> loss = rt.events(TailEvent.Kind.LOSS);
        assertEquals(1, loss.size(), events.toString());
        assertEquals(1000, loss.get(0).from());
        assertEquals(3000, loss.get(0).to());
        assertEquals(1, loss.get(0).generation());
        assertArrayEquals(java.util.Arrays.copyOf(a, 1000), rt.bytes(log.toString(), 1));
        assertArrayEquals(b, rt.bytes(log.toString(), 2));
        assertEquals(log + "#1:1000:0", rt.closedLog.get(0));
    }

    private FakeRuntime copytruncateAfterReading1000Bytes(Path log, Path copy, byte[] a, byte[] b) throws Exception {
        append(log, a);
        FakeRuntime rt = runtime(List.of(log.toString()));
        rt.chunk = 1000;
        rt.step(0); // reads [0, 1000)
        rt.reading = false;
        // copytruncate: copy, then truncate in place, then the writer continues at offset 0.
        Files.copy(log, copy);
        try (RandomAccessFile raf = new RandomAccessFile(log.toFile(), "rw")) {
            raf.setLength(0);
        }
        append(log, b);
        rt.step(NANOS_PER_MILLI);
        rt.reading = true;
        return rt;
    }

    @Test
    void copytruncateAfterEverythingWasReadLosesNothing() throws Exception {
        Path log = dir.resolve("app.log");
        byte[] a = lines("before", 3000);
        byte[] b = lines("after", 4000); // regrows past the old length before the next scan
        append(log, a);
        FakeRuntime rt = runtime(List.of(log.toString()));
        rt.step(0);
        rt.reading = false;
        try (RandomAccessFile raf = new RandomAccessFile(log.toFile(), "rw")) {
            raf.setLength(0);
        }
        append(log, b);
        rt.reading = true;
        rt.run(NANOS_PER_MILLI, 5 * NANOS_PER_MILLI, NANOS_PER_MILLI);
        assertTrue(rt.events(TailEvent.Kind.LOSS).isEmpty(), events.toString());
        assertArrayEquals(a, rt.bytes(log.toString(), 1));
        assertArrayEquals(b, rt.bytes(log.toString(), 2));
    }

    @Test
    void truncationDiscoveredByAReadNeverShipsTheNewBytesAsTheOldGeneration() throws Exception {
        Path log = dir.resolve("app.log");
        byte[] a = lines("before", 2000);
        byte[] b = lines("after", 6000);
        append(log, a);
        FakeRuntime rt = runtime(List.of(log.toString()));
        rt.step(0);
        rt.reading = false;
        rt.step(NANOS_PER_MILLI);
        // Truncated and regrown past the read offset between two scans; the read comes first.
        try (RandomAccessFile raf = new RandomAccessFile(log.toFile(), "rw")) {
            raf.setLength(0);
        }
        append(log, b);
        Generation g1 = tailer.currentShippable(log.toString());
        assertEquals(0, tailer.read(g1, ByteBuffer.allocate(4096)), "read refuses bytes that are not generation 1's");
        rt.reading = true;
        rt.run(2 * NANOS_PER_MILLI, 6 * NANOS_PER_MILLI, NANOS_PER_MILLI);
        assertArrayEquals(a, rt.bytes(log.toString(), 1));
        assertArrayEquals(b, rt.bytes(log.toString(), 2));
    }

    @Test
    void deletedWhileOpenIsReadToItsEndThenFinished() throws Exception {
        Path log = dir.resolve("app.log");
        byte[] a = lines("a", 1500);
        byte[] late = lines("late", 900);
        FakeRuntime rt = runtime(List.of(log.toString()));
        try (FileChannel writer = FileChannel.open(log, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.APPEND)) {
            writer.write(ByteBuffer.wrap(a));
            rt.step(0);
            Files.delete(log);
            rt.step(NANOS_PER_MILLI);
            assertEquals(1, rt.events(TailEvent.Kind.DELETION).size());
            writer.write(ByteBuffer.wrap(late));
            rt.run(2 * NANOS_PER_MILLI, 2 * NANOS_PER_MILLI + 2 * GRACE, 10 * NANOS_PER_MILLI);
        }
        assertArrayEquals(concat(a, late), rt.bytes(log.toString(), 1));
        assertEquals(List.of(log + "#1:" + (a.length + late.length) + ":0"), rt.closedLog);
        assertNull(tailer.currentShippable(log.toString()));
        assertEquals(0, tailer.openHandles());
        // The path comes back later: a new generation.
        byte[] c = lines("again", 100);
        append(log, c);
        rt.run(10 * GRACE, 10 * GRACE + 10 * NANOS_PER_MILLI, NANOS_PER_MILLI);
        assertArrayEquals(c, rt.bytes(log.toString(), 2));
    }

    @Test
    void globPicksUpMatchingFilesCreatedLaterAndIgnoresOthers() throws Exception {
        Path sub = dir.resolve("svc").resolve("deep");
        Files.createDirectories(sub);
        FakeRuntime rt = runtime(List.of(dir + "/*.log", dir + "/**/app-*.log"));
        rt.step(0);
        assertTrue(tailer.generations().isEmpty());
        byte[] x = lines("x", 300);
        byte[] y = lines("y", 200);
        append(dir.resolve("x.log"), x);
        append(sub.resolve("app-1.log"), y);
        append(dir.resolve("x.txt"), lines("no", 10));
        append(sub.resolve("other.log"), lines("no", 10));
        rt.step(50 * NANOS_PER_MILLI); // before the discovery interval: not seen yet
        assertTrue(tailer.generations().isEmpty());
        rt.run(100 * NANOS_PER_MILLI, 110 * NANOS_PER_MILLI, NANOS_PER_MILLI);
        assertArrayEquals(x, rt.bytes(dir.resolve("x.log").toString(), 1));
        assertArrayEquals(y, rt.bytes(sub.resolve("app-1.log").toString(), 1));
        assertEquals(2, rt.shipped.size(), rt.shipped.keySet().toString());
    }

    @Test
    void globMatchingRotatedNamesDoesNotShipARotatedFileTwice() throws Exception {
        Path log = dir.resolve("app.log");
        byte[] a = lines("a", 800);
        byte[] b = lines("b", 300);
        append(log, a);
        FakeRuntime rt = runtime(List.of(dir + "/app.log*"));
        rt.step(0);
        Files.move(log, dir.resolve("app.log.1"));
        append(log, b);
        rt.run(100 * NANOS_PER_MILLI, 100 * NANOS_PER_MILLI + 3 * GRACE, 100 * NANOS_PER_MILLI);
        assertEquals(2, rt.shipped.size(), rt.shipped.keySet().toString());
        assertArrayEquals(a, rt.bytes(log.toString(), 1));
        assertArrayEquals(b, rt.bytes(log.toString(), 2));
    }

    @Test
    void restoreShipsAFileRotatedWhileTheAgentWasDownBeforeTheNewOne() throws Exception {
        Path log = dir.resolve("app.log");
        byte[] a1 = lines("first", 4000);
        byte[] a2 = lines("while-down", 1200);
        byte[] b = lines("second", 2500);
        append(log, a1);
        FakeRuntime rt = runtime(List.of(log.toString()));
        rt.chunk = 1500;
        rt.step(0);
        Generation g = tailer.currentShippable(log.toString());
        tailer.durable(g, 1000); // the server holds 1000 bytes durably
        AgentState saved = tailer.snapshot();
        tailer.close();

        // Down: the file is rotated, the old one gets more lines, a new one starts.
        Files.move(log, dir.resolve("app.log.1"));
        append(dir.resolve("app.log.1"), a2);
        append(log, b);

        events.clear();
        FakeRuntime rt2 = runtime(List.of(log.toString()));
        tailer.restore(saved, 0);
        Generation r = tailer.currentShippable(log.toString());
        assertNotNull(r);
        assertEquals(1, r.number());
        assertEquals(Generation.State.ROTATED, r.state());
        // The server resumes at what it holds; the saved read offset is only a hint.
        tailer.seek(r, 1000);
        rt2.run(0, 3 * GRACE, 10 * NANOS_PER_MILLI);
        byte[] all1 = concat(a1, a2);
        assertArrayEquals(java.util.Arrays.copyOfRange(all1, 1000, all1.length), rt2.bytes(log.toString(), 1));
        assertArrayEquals(b, rt2.bytes(log.toString(), 2));
        assertEquals(log + "#1:" + all1.length + ":0", rt2.closedLog.get(0));
        assertTrue(rt2.events(TailEvent.Kind.LOSS).isEmpty(), events.toString());
    }
}
