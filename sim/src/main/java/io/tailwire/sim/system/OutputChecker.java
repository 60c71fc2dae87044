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
    record Result(String violation, long reportedLoss, long sourceDestroyed) {
    }

    private OutputChecker() {
    }

    /**
     * Every missing byte must be reported lost by the agent (a range covering it, or a loss of unknown size at
     * the offset where what the output holds and the reported ranges end) unless its generation's content was
     * destroyed at the source ({@link SourceFile.Gen#sourceDestroyed}). There is no exemption for known findings.
     */
    static Result check(byte[] out, List<SourceFile.Gen> gens, List<AgentNode.Loss> reported) {
        List<AgentNode.Loss> unused = new ArrayList<>(reported);
        long reportedBytes = 0;
        long destroyedBytes = 0;
        int pos = 0;
        String firstShort = null;
        for (SourceFile.Gen g : gens) {
            byte[] w = g.bytes.toByteArray();
            int k = lcp(out, pos, w);
            if (k < w.length && g.sourceDestroyed()) {
                // Excused whatever the agent said. It takes no reported loss: the agent numbers only the
                // generations it saw, so a loss it reported for the next one would fit here by offsets alone
                // and leave that one unaccounted (seed 171: a truncation while the agent was down).
                destroyedBytes += w.length - k;
                if (firstShort == null) {
                    firstShort = "generation " + g.index + " cut at byte " + k;
                }
            } else if (k < w.length) {
                AgentNode.Loss match = null;
                // The agent numbers only generations it saw, so offsets alone can fit several reports: prefer
                // one that accounts for the whole rest (seeds 1581, 1694), else the first that fits.
                for (AgentNode.Loss l : unused) {
                    if (!l.unknownSize() && l.from() <= k && k <= l.to()) {
                        if (match == null || (match.to() < w.length && l.to() >= w.length)) {
                            match = l;
                        }
                    }
                }
                long at = k;
                if (match != null) {
                    unused.remove(match);
                    at = Math.min(match.to(), w.length);
                }
                AgentNode.Loss unknown = null;
                for (AgentNode.Loss l : unused) {
                    if (l.unknownSize() && l.from() == at && at < w.length) {
                        unknown = l;
                        break;
                    }
                }
                if (unknown != null) {
                    unused.remove(unknown);
                    at = w.length; // "bytes from here on may be gone": the rest of the generation is accounted for
                }
                long rest = w.length - at;
                reportedBytes += at - k;
                if (rest > 0) {
                    String what = "generation " + g.index + " ('" + g.letter + "' lines, " + w.length
                        + " bytes, ended by " + g.end + ") is cut at byte " + k + " (output offset " + pos + "): "
                        + rest + " bytes missing that the agent never reported lost"
                        + (match == null ? "" : " (it reported " + match + ")") + "; losses reported for this"
                        + " path: " + reported;
                    return new Result(what, reportedBytes, destroyedBytes);
                }
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
                reportedBytes, destroyedBytes);
        }
        return new Result(null, reportedBytes, destroyedBytes);
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
