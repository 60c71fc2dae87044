package io.tailwire.sim.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Engine behaviour the simulation found to disagree with wire-spec.md. Each test fails on the current
 * engine; it is disabled so the build stays green and is reported to the engine's owner. Remove
 * {@code @Disabled} once the engine is fixed.
 */
class EngineKnownIssuesTest {
    /**
     * wire-spec 7.2: with window 0 (here: below one segment) and nothing in flight the sender PINGs "on the
     * persist timer (starting at the RTO, doubling to the maximum RTO)". AgentConnection.onAck resets
     * persistBackoff on every ACK, including the zero-window ACK that answers the probe itself, so while a
     * slow disk keeps the window shut the agent PINGs every RTO (~3 ms here) without ever backing off.
     * Seed 1: budget one datagram, disk syncs once per second, 10 000 bytes = 8 one-second zero-window
     * periods. Doubling from ~3 ms gives at most ~10 probes per period; the engine sends ~2900 in all.
     * Replay: bin/udp-sim engine --seed 1 --bytes 10000 --budget 1472 --initial-window 1472 --sync-us 1000000
     */
    @Test
    @Disabled("engine bug, reported: persist probing never backs off while the server answers with a closed window"
        + " (AgentConnection.onAck resets persistBackoff on every ACK); seed 1")
    void zeroWindowProbesBackOffWhileTheWindowStaysClosed() {
        EngineScenario sc = EngineSimMain.parse("engine", "--seed", "1", "--bytes", "10000", "--budget", "1472",
            "--initial-window", "1472", "--sync-us", "1000000");
        EngineRun.Result r = EngineRun.run(sc);
        assertTrue(r.passed(), r::failureReport);
        long periods = (sc.bytesPerStream() + sc.datagram() - 49) / (sc.datagram() - 48);
        assertTrue(r.pingsSent() <= 12 * periods, () -> "seed 1: " + r.pingsSent() + " PINGs for " + periods
            + " closed-window periods of 1 s; a doubling persist timer sends at most ~10 each\n" + r.summary()
            + "\nreplay: " + sc.replayCommand());
    }
}
