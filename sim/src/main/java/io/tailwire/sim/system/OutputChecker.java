package io.tailwire.sim.system;

import java.util.ArrayList;
import java.util.List;

/**
 * Aligns one server output against the generations its source went through. The output must be
 * {@code prefix(G1, k1) prefix(G2, k2) ...}: each generation in order, none repeated, each cut short only
 * where the loss is accounted for. A generation's lines all start with its own letter and neighbours'
 * letters differ, so the longest common prefix of the remaining output and the generation is exactly
 * what the output holds of it.
 */
final class OutputChecker {
    /** violation is null when the output is right; the byte counts say how much was missing and why. */
    record Result(String violation, long reportedLoss, long sourceDestroyed, long knownUnreported) {
    }

    private OutputChecker() {
    }

    /**
     * @param allowKnown whether bytes of an orphaned generation (see {@link SourceFile.Gen#orphaned}) may be
     *                   missing without a LOSS report; they are counted as knownUnreported either way
     */
    static Result check(byte[] out, List<SourceFile.Gen> gens, List<AgentNode.Loss> reported, boolean allowKnown) {
        List<AgentNode.Loss> unused = new ArrayList<>(reported);
        long reportedBytes = 0;
        long destroyedBytes = 0;
        long known = 0;
        int pos = 0;
        String firstShort = null;
        for (SourceFile.Gen g : gens) {
            byte[] w = g.bytes.toByteArray();
            int k = lcp(out, pos, w);
            if (k < w.length) {
                AgentNode.Loss match = null;
                for (AgentNode.Loss l : unused) {
                    if (l.from() <= k && k <= l.to()) {
                        match = l;
                        break;
                    }
                }
                long covered = 0;
                if (match != null) {
                    unused.remove(match);
                    covered = Math.min(match.to(), w.length) - k;
                }
                long rest = w.length - k - covered;
                reportedBytes += covered;
                boolean atLeast = match != null && match.reason().contains("at least");
                if (rest > 0 && g.orphaned && !g.sourceDestroyed() && !atLeast) {
                    known += rest;
                    if (allowKnown) {
                        pos += k;
                        continue;
                    }
                }
                if (rest > 0 && !(g.sourceDestroyed() || atLeast)) {
                    String what = "generation " + g.index + " ('" + g.letter + "' lines, " + w.length
                        + " bytes, ended by " + g.end + ") is cut at byte " + k + " (output offset " + pos + "): "
                        + rest + " bytes missing that the agent never reported lost"
                        + (match == null ? "" : " (it reported " + match + ")") + "; losses reported for this"
                        + " path: " + reported + (g.orphaned ? " [known finding F2: the file was deleted"
                        + " while open and the agent died before shipping it]" : "");
                    return new Result(what, reportedBytes, destroyedBytes, known);
                }
                destroyedBytes += Math.max(0, rest);
                if (firstShort == null) {
                    firstShort = "generation " + g.index + " cut at byte " + k;
                }
            }
            pos += k;
        }
        if (pos != out.length) {
            return new Result("the output holds " + (out.length - pos) + " bytes beyond the concatenation of its "
                + gens.size() + " source generations, from output offset " + pos + " (duplicated, reordered or"
                + " foreign bytes): " + snippet(out, pos) + (firstShort == null ? "" : "; earlier: " + firstShort),
                reportedBytes, destroyedBytes, known);
        }
        return new Result(null, reportedBytes, destroyedBytes, known);
    }

    private static int lcp(byte[] out, int pos, byte[] w) {
        int n = Math.min(out.length - pos, w.length);
        int i = java.util.Arrays.mismatch(out, pos, pos + n, w, 0, n);
        return i < 0 ? n : i;
    }

    private static String snippet(byte[] b, int at) {
        int end = Math.min(b.length, at + 40);
        StringBuilder sb = new StringBuilder("\"");
        for (int i = at; i < end; i++) {
            char c = (char) (b[i] & 0xff);
            sb.append(c == '\n' ? "\\n" : c < 0x20 || c > 0x7e ? "?" : String.valueOf(c));
        }
        return sb.append(end < b.length ? "...\"" : "\"").toString();
    }
}
