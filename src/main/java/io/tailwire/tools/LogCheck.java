package io.tailwire.tools;

import io.tailwire.cli.Cli;
import com.beust.jcommander.Parameter;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * bin/logcheck: checks that numbered lines (as written by loggen: {@code seq=000000123 ...}, or a bare number
 * at the start of the line) form exactly first..N, and says precisely what is missing, duplicated or out of
 * order. Files are read as one concatenation, in the order given. With --compare it byte-compares two files
 * instead.
 */
public final class LogCheck {
    public static final String PROGRAM = "logcheck";
    /** Examples of malformed lines kept for the report. */
    static final int MALFORMED_EXAMPLES = 5;

    public static final class Options implements Cli.HasHelp {
        @Parameter(description = "FILE... (read as one concatenation, in this order)")
        public List<String> files = new ArrayList<>();

        @Parameter(names = "--first", description = "Number the sequence must start at")
        public long first = 1;

        @Parameter(names = "--expect", description = "The sequence must be exactly --first..N: a shorter tail is missing, higher "
            + "numbers are reported (0 = end at whatever the highest number is)")
        public long expect = 0;

        @Parameter(names = "--compare", arity = 2, description = "SRC OUT: byte-compare two files and name the first differing line")
        public List<String> compare;

        @Parameter(names = {"--help", "-h"}, help = true, description = "Show this help")
        public boolean help;

        @Override
        public boolean help() {
            return help;
        }
    }

    /** An inclusive range of line numbers; count is the number of occurrences (duplicates) or 1. */
    public record Range(long from, long to, int count) {
        @Override
        public String toString() {
            String r = from == to ? Long.toString(from) : from + "-" + to;
            return count > 1 ? r + " (x" + count + ")" : r;
        }
    }

    /** Everything logcheck found. Ranges are sorted by number. */
    public record Report(long lines, long bytes, long first, long last, long distinct,
                         List<Range> missing, List<Range> duplicated, List<Range> outOfOrder, List<Range> belowFirst,
                         List<Range> aboveExpect,
                         long malformed, List<String> malformedExamples,
                         long partialBytes, long partialSeq, long expectedFirst) {
        /** True when the numbers are exactly expectedFirst..last, each once, in order, with no malformed line. */
        public boolean ok() {
            return missing.isEmpty() && duplicated.isEmpty() && outOfOrder.isEmpty() && belowFirst.isEmpty()
                && aboveExpect.isEmpty() && malformed == 0;
        }

        public boolean hasPartial() {
            return partialBytes > 0;
        }

        public void print(PrintStream out) {
            out.printf("lines: %d (%d bytes)%n", lines, bytes);
            if (distinct > 0) {
                out.printf("first: %d  last: %d  distinct: %d%n", first, last, distinct);
            } else {
                out.println("first: -  last: -  distinct: 0");
            }
            out.println("missing: " + describe(missing, false));
            out.println("duplicated: " + describe(duplicated, true));
            out.println("out of order (came after a higher number): " + describe(outOfOrder, false));
            if (!belowFirst.isEmpty()) {
                out.println("below --first " + expectedFirst + ": " + describe(belowFirst, true));
            }
            if (!aboveExpect.isEmpty()) {
                out.println("above --expect: " + describe(aboveExpect, false));
            }
            out.println("malformed: " + malformed);
            for (String ex : malformedExamples) {
                out.println("  " + ex);
            }
            if (hasPartial()) {
                out.println("partial last line (no newline, not counted): " + partialBytes + " bytes"
                    + (partialSeq >= 0 ? ", seq " + partialSeq : ""));
            }
            out.println(ok() ? "OK: exactly " + expectedFirst + ".." + (distinct == 0 ? expectedFirst - 1 : last)
                : "FAIL");
        }

        private static String describe(List<Range> ranges, boolean counts) {
            if (ranges.isEmpty()) {
                return "none";
            }
            long n = 0;
            for (Range r : ranges) {
                n += (r.to - r.from + 1) * (counts ? r.count - 1 : 1);
            }
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < ranges.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(ranges.get(i));
            }
            sb.append(" (").append(n).append(counts ? " extra line" : " number").append(n == 1 ? ")" : "s)");
            return sb.toString();
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o = new Options();
        try {
            Cli.parse(PROGRAM, o, args, out, err);
            for (String f : o.files) {
                // jcommander hands unknown flags to the main parameter; a file named like a flag is a typo.
                if (f.startsWith("-") && f.length() > 1) {
                    throw Cli.usageError(PROGRAM, "unknown option '" + f + "'", err);
                }
            }
            if (o.compare == null && o.files.isEmpty()) {
                throw Cli.usageError(PROGRAM, "give FILE... or --compare SRC OUT", err);
            }
            if (o.compare != null && !o.files.isEmpty()) {
                throw Cli.usageError(PROGRAM, "--compare takes exactly two files and no others", err);
            }
            if (o.first < 0 || o.expect < 0) {
                throw Cli.usageError(PROGRAM, "--first and --expect must be >= 0", err);
            }
        } catch (Cli.Exit e) {
            return e.code;
        }
        try {
            if (o.compare != null) {
                Comparison c = compare(Paths.get(o.compare.get(0)), Paths.get(o.compare.get(1)));
                out.println(c.message());
                return c.identical() ? 0 : 1;
            }
            List<Path> paths = new ArrayList<>();
            for (String f : o.files) {
                paths.add(Paths.get(f));
            }
            Report r = check(paths, o.first, o.expect);
            r.print(out);
            return r.ok() ? 0 : 1;
        } catch (IOException e) {
            err.println(PROGRAM + ": " + e);
            return 1;
        }
    }

    /** Reads the files as one concatenation and checks the line numbers. */
    public static Report check(List<Path> files, long first, long expect) throws IOException {
        Checker c = new Checker(first);
        byte[] buf = new byte[1 << 16];
        for (Path p : files) {
            c.startFile(p.toString());
            try (InputStream in = Files.newInputStream(p)) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    c.accept(buf, 0, n);
                }
            }
        }
        return c.finish(expect);
    }

    /** Streaming checker over the bytes of the concatenation; usable without files. */
    public static final class Checker {
        /** Enough for "seq=" + 19 digits + a separator. */
        private static final int PREFIX = 32;

        private final long firstExpected;
        private final byte[] prefix = new byte[PREFIX];
        private int prefixLen;
        private long lineLen;
        private long lines;
        private long bytes;
        private final BitSet seen = new BitSet();
        private final BitSet twice = new BitSet();
        private final Map<Long, Integer> moreThanTwice = new HashMap<>();
        private long[] outOfOrder = new long[16];
        private int outOfOrderLen;
        private long[] below = new long[16];
        private int belowLen;
        private long max = -1;
        private long min = Long.MAX_VALUE;
        private long distinct;
        private long malformed;
        private final List<String> malformedExamples = new ArrayList<>();
        private String file = "-";
        private long lineInFile;

        public Checker(long firstExpected) {
            this.firstExpected = firstExpected;
        }

        /** Names the file the following bytes come from (for malformed-line examples only). */
        public void startFile(String name) {
            file = name;
            lineInFile = 0;
        }

        public void accept(byte[] b, int off, int len) {
            bytes += len;
            int end = off + len;
            for (int i = off; i < end; i++) {
                byte x = b[i];
                if (x == '\n') {
                    lineInFile++;
                    endLine();
                } else {
                    if (prefixLen < PREFIX) {
                        prefix[prefixLen++] = x;
                    }
                    lineLen++;
                }
            }
        }

        private void endLine() {
            lines++;
            long n = parse(prefix, prefixLen, lineLen, true);
            if (n < 0 || n - firstExpected >= Integer.MAX_VALUE) {
                malformed++;
                if (malformedExamples.size() < MALFORMED_EXAMPLES) {
                    String text = new String(prefix, 0, prefixLen, StandardCharsets.ISO_8859_1);
                    malformedExamples.add(file + ":" + lineInFile + ": " + text + (lineLen > prefixLen ? "..." : "")
                        + (n >= 0 ? " (number too far from --first)" : ""));
                }
            } else {
                record(n);
            }
            prefixLen = 0;
            lineLen = 0;
        }

        private void record(long n) {
            if (n < firstExpected) {
                below = push(below, belowLen++, n);
                return;
            }
            int idx = (int) (n - firstExpected);
            if (seen.get(idx)) {
                if (!twice.get(idx)) {
                    twice.set(idx);
                } else {
                    moreThanTwice.merge(n, 3, (a, one) -> a + 1);
                }
                return;
            }
            seen.set(idx);
            distinct++;
            // A number is out of order when it arrives after a higher one (and is not a repeat).
            if (n < max) {
                outOfOrder = push(outOfOrder, outOfOrderLen++, n);
            }
            max = Math.max(max, n);
            min = Math.min(min, n);
        }

        private static long[] push(long[] a, int at, long v) {
            if (at == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[at] = v;
            return a;
        }

        /**
         * The line's number, or -1 when it has none. Accepts "seq=DIGITS" or "DIGITS" at the start, followed by a
         * space, a tab or the end of the line; complete says whether the line ended (a cut line may end mid-number).
         */
        static long parse(byte[] p, int plen, long lineLen, boolean complete) {
            int i = 0;
            if (plen >= 4 && p[0] == 's' && p[1] == 'e' && p[2] == 'q' && p[3] == '=') {
                i = 4;
            }
            int digitsStart = i;
            long v = 0;
            while (i < plen && p[i] >= '0' && p[i] <= '9') {
                if (i - digitsStart >= 18) {
                    return -1;
                }
                v = v * 10 + (p[i] - '0');
                i++;
            }
            if (i == digitsStart) {
                return -1;
            }
            if (i < plen) {
                return (p[i] == ' ' || p[i] == '\t') ? v : -1;
            }
            // Digits run to the end of what we kept: fine only if that is the end of a complete line.
            return (complete && lineLen == i) ? v : -1;
        }

        public Report finish(long expect) {
            long partialBytes = lineLen;
            long partialSeq = lineLen > 0 ? parse(prefix, prefixLen, lineLen, false) : -1;
            // With --expect the sequence is exactly first..expect: the tail is missing, anything above is extra.
            long upper = expect > 0 ? expect : max;
            List<Range> missing = new ArrayList<>();
            if (upper >= firstExpected) {
                int limit = (int) (upper - firstExpected + 1);
                int i = seen.nextClearBit(0);
                while (i < limit) {
                    int j = seen.nextSetBit(i);
                    int stop = (j < 0 || j > limit) ? limit : j;
                    missing.add(new Range(firstExpected + i, firstExpected + stop - 1, 1));
                    i = stop >= limit ? limit : seen.nextClearBit(stop);
                }
            }
            List<Range> above = new ArrayList<>();
            if (expect > 0 && max > expect) {
                int from = (int) Math.max(0, expect + 1 - firstExpected);
                for (int i = seen.nextSetBit(from); i >= 0; i = seen.nextSetBit(i + 1)) {
                    appendRange(above, firstExpected + i, 1);
                }
            }
            List<Range> dups = new ArrayList<>();
            for (int i = twice.nextSetBit(0); i >= 0; i = twice.nextSetBit(i + 1)) {
                long n = firstExpected + i;
                appendRange(dups, n, moreThanTwice.getOrDefault(n, 2));
            }
            Arrays.sort(outOfOrder, 0, outOfOrderLen);
            List<Range> ooo = new ArrayList<>();
            for (int i = 0; i < outOfOrderLen; i++) {
                appendRange(ooo, outOfOrder[i], 1);
            }
            Arrays.sort(below, 0, belowLen);
            List<Range> belowRanges = new ArrayList<>();
            for (int i = 0; i < belowLen; ) {
                int j = i;
                while (j < belowLen && below[j] == below[i]) {
                    j++;
                }
                appendRange(belowRanges, below[i], j - i);
                i = j;
            }
            return new Report(lines, bytes - partialBytes, distinct > 0 ? min : 0, distinct > 0 ? max : 0, distinct,
                missing, dups, ooo, belowRanges, above, malformed, List.copyOf(malformedExamples), partialBytes,
                partialSeq, firstExpected);
        }

        /** Extends the last range when n follows it with the same count; otherwise starts a new one. */
        private static void appendRange(List<Range> ranges, long n, int count) {
            if (!ranges.isEmpty()) {
                Range last = ranges.get(ranges.size() - 1);
                if (last.to + 1 == n && last.count == count) {
                    ranges.set(ranges.size() - 1, new Range(last.from, n, count));
                    return;
                }
            }
            ranges.add(new Range(n, n, count));
        }
    }

    /** Result of --compare. */
    public record Comparison(boolean identical, long differingLine, long differingOffset, String message) {
    }

    /** Byte-compares two files; on a mismatch names the first differing line (1-based) and byte offset. */
    public static Comparison compare(Path src, Path out) throws IOException {
        try (InputStream a = Files.newInputStream(src); InputStream b = Files.newInputStream(out)) {
            byte[] ba = new byte[1 << 16];
            byte[] bb = new byte[1 << 16];
            int la = 0, lb = 0, pa = 0, pb = 0;
            long offset = 0;
            long line = 1;
            long lineStart = 0;
            while (true) {
                if (pa == la) {
                    la = Math.max(a.read(ba), 0);
                    pa = 0;
                }
                if (pb == lb) {
                    lb = Math.max(b.read(bb), 0);
                    pb = 0;
                }
                boolean endA = la == 0;
                boolean endB = lb == 0;
                if (endA && endB) {
                    return new Comparison(true, -1, -1, "identical: " + offset + " bytes, "
                        + (line - 1) + " complete lines" + (offset > lineStart ? " + partial line" : ""));
                }
                if (endA || endB || ba[pa] != bb[pb]) {
                    String why = endA ? src + " ends first (" + out + " has more bytes)"
                        : endB ? out + " ends first (" + src + " has more bytes)"
                        : "bytes differ";
                    String msg = "differ at line " + line + " (byte offset " + offset + "): " + why + "\n"
                        + "  " + src + ": " + lineAt(src, lineStart) + "\n"
                        + "  " + out + ": " + lineAt(out, lineStart);
                    return new Comparison(false, line, offset, msg);
                }
                if (ba[pa] == '\n') {
                    line++;
                    lineStart = offset + 1;
                }
                pa++;
                pb++;
                offset++;
            }
        }
    }

    /** Up to 120 bytes of the line starting at offset, for showing a mismatch. */
    private static String lineAt(Path p, long offset) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            in.skipNBytes(Math.min(offset, Files.size(p)));
            byte[] b = in.readNBytes(120);
            int n = 0;
            while (n < b.length && b[n] != '\n') {
                n++;
            }
            return b.length == 0 ? "<end of file>" : "\"" + new String(b, 0, n, StandardCharsets.ISO_8859_1)
                + (n == b.length ? "..." : "") + "\"";
        }
    }
}
