package io.tailwire.sim.system;

/**
 * The outcome of one whole-system run. {@code violation} is the first invariant broken (null on PASS) and
 * {@code context} the event trace around it.
 */
public record RunResult(Scenario scenario, boolean pass, String violation, String context, long virtualNanos,
                        long deliveredAfterNanos, long bytesWritten, long bytesDelivered, long reportedLossBytes,
                        long sourceDestroyedBytes,
                        long retransmissions, long dataPackets, int crashesSurvived,
                        long steps, long traceEvents, String traceHash) {

    public long seed() {
        return scenario.seed();
    }

    /** One line: seed, virtual time, bytes, retransmissions, crashes survived, PASS/FAIL. */
    public String summaryLine() {
        return String.format("seed=%d vt=%.1fs delivered-after=%s bytes=%d/%d lost(reported)=%d lost(source)=%d"
                + " retx=%d crashes=%d steps=%d %s", seed(), virtualNanos / 1e9,
            deliveredAfterNanos < 0 ? "-" : String.format("%.1fs", deliveredAfterNanos / 1e9), bytesDelivered,
            bytesWritten, reportedLossBytes, sourceDestroyedBytes,
            retransmissions, crashesSurvived, steps,
            pass ? "PASS" : "FAIL: " + firstLine(violation));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** What a failure report prints: the replay command, the broken invariant and the trace around it. */
    public String failureReport() {
        if (pass) {
            return "PASS " + scenario.replayCommand();
        }
        return "FAIL seed " + seed() + "\n  replay: " + scenario.replayCommand() + "\n  first invariant broken: "
            + violation + "\n" + context;
    }
}
