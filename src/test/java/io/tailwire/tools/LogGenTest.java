package io.tailwire.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogGenTest {
    @TempDir
    Path dir;

    private LogGen.Options opts(String name, long count, long seed) {
        LogGen.Options o = new LogGen.Options();
        o.out = dir.resolve(name).toString();
        o.count = count;
        o.seed = seed;
        return o;
    }

    /** Rotated files oldest first, then the live file: the order their contents were written in. */
    private static List<Path> inRotationOrder(Path live) {
        List<Path> files = new ArrayList<>();
        int k = 1;
        while (Files.exists(LogGen.rotated(live, k))) {
            k++;
        }
        for (int i = k - 1; i >= 1; i--) {
            files.add(LogGen.rotated(live, i));
        }
        files.add(live);
        return files;
    }

    @Test
    void outputChecksAsExactlyOneToNWithEveryLineBetween100And300Bytes() throws IOException {
        LogGen.Options o = opts("app.log", 5000, 42);
        LogGen.Result res = LogGen.generate(o);
        Path p = Path.of(o.out);
        LogCheck.Report r = LogCheck.check(List.of(p), 1, 5000);
        assertTrue(r.ok(), "logcheck ok");
        assertEquals(5000, r.lines());
        assertEquals(1, r.first());
        assertEquals(5000, r.last());
        assertFalse(r.hasPartial());
        assertEquals(Files.size(p), res.bytes());
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (String line : Files.readAllLines(p, StandardCharsets.US_ASCII)) {
            int len = line.length() + 1;
            min = Math.min(min, len);
            max = Math.max(max, len);
            assertTrue(len >= AccessLogLine.MIN_BYTES && len <= AccessLogLine.MAX_BYTES, "length " + len);
        }
        // The sizes really vary over the range, not just fit in it.
        assertTrue(min < 120 && max > 280, "min " + min + " max " + max);
    }

    @Test
    void theSameSeedGivesTheSameBytesAndAnotherSeedDoesNot() throws IOException {
        LogGen.generate(opts("a.log", 300, 7));
        LogGen.generate(opts("b.log", 300, 7));
        LogGen.generate(opts("c.log", 300, 8));
        byte[] a = Files.readAllBytes(dir.resolve("a.log"));
        assertArrayEquals(a, Files.readAllBytes(dir.resolve("b.log")));
        assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(dir.resolve("c.log"))));
    }

    @Test
    void firstAndAppendContinueASequence() throws IOException {
        LogGen.generate(opts("app.log", 100, 1));
        LogGen.Options more = opts("app.log", 50, 1);
        more.first = 101;
        more.append = true;
        LogGen.generate(more);
        assertTrue(LogCheck.check(List.of(dir.resolve("app.log")), 1, 150).ok());
    }

    @Test
    void stampPutsEpochNanosAfterTheNumberAndLinesStillParse() throws IOException {
        LogGen.Options o = opts("s.log", 20, 3);
        o.stamp = true;
        long before = System.currentTimeMillis() * 1_000_000L;
        LogGen.generate(o);
        assertTrue(LogCheck.check(List.of(Path.of(o.out)), 1, 20).ok());
        for (String line : Files.readAllLines(Path.of(o.out))) {
            String[] f = line.split(" ");
            assertTrue(f[1].startsWith("ts="), line);
            long ts = Long.parseLong(f[1].substring(3));
            // Wall-clock epoch nanos: not before the run started (1 ms slack for clock granularity).
            assertTrue(ts >= before - 1_000_000L, "ts " + ts + " before " + before);
            assertTrue(line.length() + 1 <= AccessLogLine.MAX_BYTES);
        }
    }

    private void rotationConcatenatesToOneToN(LogGen.RotateMode mode, int batch) throws IOException {
        LogGen.Options o = opts("app.log", 1000, 5);
        o.batch = batch;
        o.rotateEvery = 97;
        o.rotateMode = mode;
        LogGen.Result res = LogGen.generate(o);
        Path live = Path.of(o.out);
        List<Path> files = inRotationOrder(live);
        assertEquals(1000 / 97, res.rotations());
        assertEquals(res.rotations() + 1, files.size());
        LogCheck.Report r = LogCheck.check(files, 1, 1000);
        assertTrue(r.ok(), mode + " concatenation is 1..N");
        for (int i = 0; i < files.size() - 1; i++) {
            assertEquals(97, Files.readAllLines(files.get(i)).size(), files.get(i) + " holds one rotation's lines");
        }
    }

    @Test
    void renameRotationFilesConcatenateToOneToN() throws IOException {
        rotationConcatenatesToOneToN(LogGen.RotateMode.rename, 1);
    }

    @Test
    void copytruncateRotationFilesConcatenateToOneToN() throws IOException {
        rotationConcatenatesToOneToN(LogGen.RotateMode.copytruncate, 1);
    }

    @Test
    void batchedWritesRotateAtTheSameLinesAsSingleWrites() throws IOException {
        // 10 does not divide 97: a batch is cut short at each rotation.
        rotationConcatenatesToOneToN(LogGen.RotateMode.copytruncate, 10);
    }

    @Test
    void batchingDoesNotChangeTheBytes() throws IOException {
        LogGen.generate(opts("one.log", 777, 9));
        LogGen.Options b = opts("many.log", 777, 9);
        b.batch = 50;
        LogGen.generate(b);
        assertArrayEquals(Files.readAllBytes(dir.resolve("one.log")), Files.readAllBytes(dir.resolve("many.log")));
    }

    @Test
    void keepLimitsRotatedFilesToTheNewestOnes() throws IOException {
        LogGen.Options o = opts("app.log", 1000, 5);
        o.rotateEvery = 100;
        o.keep = 3;
        LogGen.generate(o);
        List<Path> files = inRotationOrder(Path.of(o.out));
        assertEquals(4, files.size());
        // The kept files are the last 400 lines, in order: 601..1000.
        assertTrue(LogCheck.check(files, 601, 1000).ok());
    }

    @Test
    void aFreshRunRemovesStaleRotatedFiles() throws IOException {
        LogGen.Options o = opts("app.log", 300, 5);
        o.rotateEvery = 100;
        LogGen.generate(o);
        LogGen.generate(opts("app.log", 50, 5));
        assertEquals(List.of(dir.resolve("app.log")), inRotationOrder(dir.resolve("app.log")));
    }

    @Test
    void badFlagsExitTwoAndHelpExitsZero() {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        assertEquals(2, LogGen.run(new String[] {"--out", "x", "--count", "abc"}, sink, sink));
        assertEquals(2, LogGen.run(new String[] {"--count", "3"}, sink, sink));
        assertEquals(2, LogGen.run(new String[] {"--out", dir.resolve("y").toString()}, sink, sink));
        assertEquals(2, LogGen.run(new String[] {"--out", "x", "--count", "3", "--rotate-mode", "nope"}, sink, sink));
        assertEquals(0, LogGen.run(new String[] {"--help"}, sink, sink));
    }
}
