package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.Wire;

import org.junit.jupiter.api.Test;

/**
 * When the agent sends its control messages: a message not sent yet goes at the next poll, whatever else
 * went first; LOSS_REPORT goes three times (wire-spec.md 6.5). Pins the CONTROL timer of the timer table
 * (issue 12 point 2).
 */
class AgentControlRepeatTest {
    @Test
    void aLossReportAndAStreamOpenQueuedInOneTurnBothGoAtTheNextPoll() {
        Harness h = new Harness(91);
        assertTrue(h.runUntil(() -> h.connected, 1000 * NANOS_PER_MILLI));
        int sid = h.agent.openStream("/first", 1, null, 0);
        assertTrue(h.runUntil(() -> h.lastStatus == StreamStatus.OK, 1000 * NANOS_PER_MILLI));
        h.dropToServer = b -> true;
        int before = h.sentByAgent.size();
        h.agent.reportLoss(sid, 0, 10, "test");
        h.agent.openStream("/second", 1, null, 0);
        h.step(); // one turn: the agent polls until it has nothing more to send now
        assertEquals(1, h.countSent(h.sentByAgent.subList(before, h.sentByAgent.size()), Wire.TYPE_LOSS_REPORT));
        assertEquals(1, h.countSent(h.sentByAgent.subList(before, h.sentByAgent.size()), Wire.TYPE_STREAM_OPEN),
            "the STREAM_OPEN queued behind the loss report waited for a timer");
    }

    @Test
    void aLossReportGoesThreeTimesAndThenStops() {
        Harness h = new Harness(92);
        assertTrue(h.runUntil(() -> h.connected, 1000 * NANOS_PER_MILLI));
        int sid = h.agent.openStream("/lossy", 1, null, 0);
        assertTrue(h.runUntil(() -> h.lastStatus == StreamStatus.OK, 1000 * NANOS_PER_MILLI));
        h.dropToServer = b -> Harness.type(b) == Wire.TYPE_LOSS_REPORT;
        h.agent.reportLoss(sid, 0, 10, "test");
        long until = h.now + 5_000 * NANOS_PER_MILLI;
        h.runUntil(() -> h.now >= until, 6_000 * NANOS_PER_MILLI);
        assertEquals(3, h.countSent(h.sentByAgent, Wire.TYPE_LOSS_REPORT));
    }
}
