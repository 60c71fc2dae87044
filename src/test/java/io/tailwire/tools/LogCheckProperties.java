package io.tailwire.tools;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The oracle: build 1..N, remove, duplicate and move chosen numbers, and require logcheck to report exactly
 * those choices. jqwik prints the failing seed.
 */
class LogCheckProperties {

    /** A damaged sequence and the damage done to it. */
    record Damaged(List<Long> lines, long n, TreeSet<Long> removed, TreeMap<Long, Integer> dupCounts,
                   TreeSet<Long> moved) {
    }

    static Damaged damage(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long n = 1 + r.nextInt(2000);
        TreeSet<Long> removed = new TreeSet<>();
        TreeMap<Long, Integer> dups = new TreeMap<>();
        TreeSet<Long> moved = new TreeSet<>();
        // Runs make the range compression matter: damage comes in bursts of 1..5 numbers.
        for (long i = 1; i < n; i++) {
            double p = r.nextDouble();
            int run = 1 + r.nextInt(5);
            for (long k = i; k < Math.min(n, i + run); k++) {
                if (p < 0.02) {
                    removed.add(k);
                } else if (p < 0.04) {
                    dups.put(k, 2 + (r.nextInt(4) == 0 ? 1 : 0));
                } else if (p < 0.06) {
                    moved.add(k);
                }
            }
            if (p < 0.06) {
                i += run - 1;
            }
        }
        // N itself stays in place, so every moved number has a higher number to go behind.
        List<Long> lines = new ArrayList<>();
        for (long i = 1; i <= n; i++) {
            if (!removed.contains(i) && !moved.contains(i)) {
                lines.add(i);
            }
        }
        List<Long> anchors = List.copyOf(lines);
        for (long x : moved) {
            // Put x behind a higher number that stays in order: then x is exactly "after a higher number".
            List<Long> higher = anchors.stream().filter(y -> y > x).toList();
            long y = higher.get(r.nextInt(higher.size()));
            lines.add(lines.indexOf(y) + 1, x);
        }
        for (Map.Entry<Long, Integer> e : dups.entrySet()) {
            for (int c = 1; c < e.getValue(); c++) {
                // Extra copies anywhere after the original: the original stays the first occurrence.
                int at = lines.indexOf(e.getKey());
                lines.add(at + 1 + r.nextInt(lines.size() - at), e.getKey());
            }
        }
        return new Damaged(lines, n, removed, dups, moved);
    }

    static byte[] render(List<Long> numbers, SplittableRandom r) {
        StringBuilder sb = new StringBuilder();
        for (long x : numbers) {
            // Both accepted number styles, and arbitrary text after the separator.
            sb.append(r.nextBoolean() ? String.format("seq=%09d", x) : Long.toString(x));
            sb.append(r.nextBoolean() ? ' ' : '\t').append("payload ").append(r.nextInt(1000)).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static TreeSet<Long> expand(List<LogCheck.Range> ranges) {
        TreeSet<Long> s = new TreeSet<>();
        for (LogCheck.Range rg : ranges) {
            for (long x = rg.from(); x <= rg.to(); x++) {
                s.add(x);
            }
        }
        return s;
    }

    static TreeMap<Long, Integer> expandCounts(List<LogCheck.Range> ranges) {
        TreeMap<Long, Integer> m = new TreeMap<>();
        for (LogCheck.Range rg : ranges) {
            for (long x = rg.from(); x <= rg.to(); x++) {
                m.put(x, rg.count());
            }
        }
        return m;
    }

    /** Ranges are sorted, disjoint and maximal: two neighbours with the same count would have been one range. */
    static void assertCompressed(List<LogCheck.Range> ranges) {
        for (int i = 1; i < ranges.size(); i++) {
            LogCheck.Range a = ranges.get(i - 1);
            LogCheck.Range b = ranges.get(i);
            assertTrue(a.to() < b.from(), "sorted and disjoint: " + ranges);
            assertFalse(a.to() + 1 == b.from() && a.count() == b.count(), "not merged: " + a + " " + b);
        }
    }

    static LogCheck.Report check(byte[] data, long first, long expect) {
        LogCheck.Checker c = new LogCheck.Checker(first);
        c.accept(data, 0, data.length);
        return c.finish(expect);
    }

    @Property(tries = 40)
    void reportsExactlyTheRemovedDuplicatedAndMovedNumbers(@ForAll long seed) {
        Damaged d = damage(seed);
        byte[] data = render(d.lines(), new SplittableRandom(seed + 1));
        LogCheck.Report rep = check(data, 1, d.n());

        assertEquals(d.removed(), expand(rep.missing()), "missing");
        assertEquals(d.dupCounts(), expandCounts(rep.duplicated()), "duplicated");
        assertEquals(d.moved(), expand(rep.outOfOrder()), "out of order");
        assertCompressed(rep.missing());
        assertCompressed(rep.duplicated());
        assertCompressed(rep.outOfOrder());
        assertEquals(d.lines().size(), rep.lines());
        assertEquals(d.n(), rep.last());
        assertEquals(0, rep.malformed());
        assertEquals(d.removed().isEmpty() && d.dupCounts().isEmpty() && d.moved().isEmpty(), rep.ok());
    }

    @Property(tries = 30)
    void splittingTheInputIntoFilesAnywhereGivesTheSameReport(@ForAll long seed) throws IOException {
        Damaged d = damage(seed);
        SplittableRandom r = new SplittableRandom(seed + 2);
        byte[] data = render(d.lines(), r);
        Path dir = Files.createTempDirectory("logcheck");
        try {
            // Cut points anywhere, mid-line included: the files are read as one concatenation.
            int parts = 1 + r.nextInt(5);
            TreeSet<Integer> cuts = new TreeSet<>();
            for (int i = 1; i < parts; i++) {
                cuts.add(r.nextInt(data.length + 1));
            }
            cuts.add(data.length);
            List<Path> files = new ArrayList<>();
            int from = 0;
            for (int cut : cuts) {
                Path f = dir.resolve("part" + files.size());
                Files.write(f, java.util.Arrays.copyOfRange(data, from, cut));
                files.add(f);
                from = cut;
            }
            assertEquals(check(data, 1, d.n()), LogCheck.check(files, 1, d.n()));
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    @Property(tries = 40)
    void aCutLastLineIsReportedAsPartialAndDoesNotFailTheCheck(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long n = 1 + r.nextInt(200);
        List<Long> nums = new ArrayList<>();
        for (long i = 1; i <= n + 1; i++) {
            nums.add(i);
        }
        byte[] full = render(nums, r);
        // Cut inside the last line (after at least one byte of it, before its newline).
        int lastStart = full.length - 1;
        while (full[lastStart - 1] != '\n') {
            lastStart--;
        }
        int cut = lastStart + 1 + r.nextInt(full.length - 1 - lastStart);
        byte[] data = java.util.Arrays.copyOf(full, cut);
        LogCheck.Report rep = check(data, 1, 0);
        assertTrue(rep.ok(), "ok");
        assertEquals(n, rep.lines());
        assertEquals(n, rep.last());
        assertEquals(cut - lastStart, rep.partialBytes());
        assertEquals(lastStart, rep.bytes());
    }
}
