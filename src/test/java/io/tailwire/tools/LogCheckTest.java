package io.tailwire.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogCheckTest {
    @TempDir
    Path dir;

    private static LogCheck.Report check(String text, long first, long expect) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        LogCheck.Checker c = new LogCheck.Checker(first);
        c.accept(b, 0, b.length);
        return c.finish(expect);
    }

    @Test
    void linesWithoutANumberAreMalformedAndFailTheCheck() {
        LogCheck.Report r = check("seq=1 a\nhello\nseq=2x\nseq= 3\n2 b\n", 1, 0);
        assertEquals(5, r.lines());
        assertEquals(3, r.malformed());
        assertEquals(3, r.malformedExamples().size());
        assertFalse(r.ok());
        assertEquals(2, r.last());
    }

    @Test
    void aBareNumberFillingTheWholeLineCounts() {
        LogCheck.Report r = check("1\n2\n3\n", 1, 3);
        assertTrue(r.ok());
        assertEquals(3, r.distinct());
    }

    @Test
    void aPartialLineCutInsideItsNumberHasNoTrustedSeq() {
        LogCheck.Report r = check("seq=1 a\nseq=00", 1, 0);
        assertTrue(r.ok());
        assertEquals(1, r.lines());
        assertEquals(6, r.partialBytes());
        assertEquals(-1, r.partialSeq());
        LogCheck.Report r2 = check("seq=1 a\nseq=2 b", 1, 0);
        assertEquals(2, r2.partialSeq());
    }

    @Test
    void firstMovesTheExpectedStartAndNumbersBelowItAreReported() {
        assertTrue(check("5 a\n6 a\n7 a\n", 5, 7).ok());
        LogCheck.Report r = check("5 a\n6 a\n7 a\n", 1, 0);
        assertEquals(List.of(new LogCheck.Range(1, 4, 1)), r.missing());
        LogCheck.Report below = check("5 a\n3 a\n3 a\n6 a\n", 5, 0);
        assertEquals(List.of(new LogCheck.Range(3, 3, 2)), below.belowFirst());
        assertFalse(below.ok());
    }

    @Test
    void expectBeyondTheLastNumberReportsTheTailAsMissing() {
        LogCheck.Report r = check("1 a\n2 a\n", 1, 5);
        assertEquals(List.of(new LogCheck.Range(3, 5, 1)), r.missing());
        assertEquals("3-5", r.missing().get(0).toString());
    }

    @Test
    void numbersAboveExpectAreReportedAndFailTheCheck() {
        LogCheck.Report r = check("1 a\n2 a\n3 a\n5 a\n", 1, 2);
        assertEquals(List.of(new LogCheck.Range(3, 3, 1), new LogCheck.Range(5, 5, 1)), r.aboveExpect());
        assertTrue(r.missing().isEmpty());
        assertFalse(r.ok());
    }

    @Test
    void emptyInputIsTheEmptySequenceUnlessExpectSaysOtherwise() {
        assertTrue(check("", 1, 0).ok());
        assertFalse(check("", 1, 2).ok());
    }

    @Test
    void compareNamesTheFirstDifferingLine() throws IOException {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        Files.writeString(a, "one\ntwo\nthree\nfour\n");
        Files.writeString(b, "one\ntwo\nthreE\nfour\n");
        LogCheck.Comparison c = LogCheck.compare(a, b);
        assertFalse(c.identical());
        assertEquals(3, c.differingLine());
        assertEquals(12, c.differingOffset());

        Files.writeString(b, "one\ntwo\n");
        c = LogCheck.compare(a, b);
        assertEquals(3, c.differingLine());
        assertEquals(8, c.differingOffset());

        Files.writeString(b, "one\ntwo\nthree\nfour\n");
        assertTrue(LogCheck.compare(a, b).identical());
    }

    private static int run(String... args) {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        return LogCheck.run(args, sink, sink);
    }

    @Test
    void exitCodesAreZeroForExactOneForDamagedTwoForBadUsage() throws IOException {
        Path good = dir.resolve("good");
        Path bad = dir.resolve("bad");
        Files.writeString(good, "1 a\n2 b\n3 c\n");
        Files.writeString(bad, "1 a\n3 c\n");
        assertEquals(0, run(good.toString()));
        assertEquals(1, run(bad.toString()));
        assertEquals(0, run("--compare", good.toString(), good.toString()));
        assertEquals(1, run("--compare", good.toString(), bad.toString()));
        assertEquals(2, run("--no-such-flag", good.toString()));
        assertEquals(2, run());
        assertEquals(0, run("--help"));
    }
}
