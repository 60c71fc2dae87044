package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The engine asserts its own invariants (issue 12 point 8): each test breaks one from outside, as a bug
 * would, and checks that the next call stops with an AssertionError naming it instead of carrying on.
 */
class EngineInvariantsTest {
    @Test
    void theTestsRunWithAssertionsEnabled() {
        assertTrue(AgentConnection.class.desiredAssertionStatus(), "surefire must run the tests with -ea");
    }

    @Test
    void bytesInFlightThatDisagreeWithTheSlotsAreCaughtByTheNextAck() throws Exception {
        Harness h = AgentAckTest.withPacketsInFlight(10);
        set(window(h.agent), "bytesInFlight", h.agent.bytesInFlight() - 100);
        AssertionError e = assertThrows(AssertionError.class,
            () -> h.deliverRaw(AgentAckTest.ack(h.agent.connectionId(), 5, 50_000), false));
        assertTrue(e.getMessage().contains("bytes in flight"), e.getMessage());
    }

    @Test
    void aSendPointPastTheQueuedPacketsIsCaughtByTheNextPoll() throws Exception {
        Harness h = AgentAckTest.withPacketsInFlight(3);
        set(window(h.agent), "sendNext", 4L); // packets 0..2 exist: 4 is past nextPn
        AssertionError e = assertThrows(AssertionError.class,
            () -> h.agent.poll(new UnsafeBuffer(new byte[2048]), h.now + NANOS_PER_MILLI));
        assertTrue(e.getMessage().contains("ring out of order"), e.getMessage());
    }

    @Test
    void anRtoTimerThatIsNotTheEarliestPacketDeadlineIsCaughtByTheNextAck() throws Exception {
        Harness h = AgentAckTest.withPacketsInFlight(10);
        // What a forgotten re-arm would leave: the timer off the earliest deadline of the packets in flight.
        Field f = AgentConnection.class.getDeclaredField("timers");
        f.setAccessible(true);
        @SuppressWarnings("unchecked")
        TimerTable<AgentConnection.Timer> timers = (TimerTable<AgentConnection.Timer>) f.get(h.agent);
        long stale = timers.get(AgentConnection.Timer.RTO) + 1_000 * NANOS_PER_MILLI;
        timers.set(AgentConnection.Timer.RTO, stale);
        // An ACK that acknowledges nothing new leaves the timer alone, so the check sees it as it is.
        AssertionError e = assertThrows(AssertionError.class,
            () -> h.deliverRaw(AgentAckTest.ack(h.agent.connectionId(), 0, 50_000), false));
        assertTrue(e.getMessage().contains("RTO timer at " + stale), e.getMessage());
    }

    @Test
    void aCongestionWindowBelowTwoPacketsIsCaughtByTheNextAck() throws Exception {
        NewReno cc = new NewReno(1000);
        set(cc, "cwnd", 1000L); // below the 2-packet minimum
        AssertionError e = assertThrows(AssertionError.class, () -> cc.onAcked(100, 0));
        assertTrue(e.getMessage().contains("cwnd 1100"), e.getMessage());
    }

    @Test
    void aSmoothedRttBelowTheMinimumRttIsCaughtByTheNextSample() throws Exception {
        RttEstimator rtt = new RttEstimator(100 * NANOS_PER_MILLI, 20 * NANOS_PER_MILLI, 2000 * NANOS_PER_MILLI, NANOS_PER_MILLI);
        rtt.onSample(10 * NANOS_PER_MILLI, 0, 0);
        set(rtt, "srttNs", NANOS_PER_MILLI); // under the 10 ms minimum: no average of samples can get there
        AssertionError e = assertThrows(AssertionError.class, () -> rtt.onSample(10 * NANOS_PER_MILLI, 0, NANOS_PER_MILLI));
        assertTrue(e.getMessage().contains("srtt"), e.getMessage());
    }

    /** The connection's send window, where the ring and its counters live. */
    private static SendWindow window(AgentConnection agent) throws ReflectiveOperationException {
        Field f = AgentConnection.class.getDeclaredField("window");
        f.setAccessible(true);
        return (SendWindow) f.get(agent);
    }

    private static void set(Object target, String field, long value) throws ReflectiveOperationException {
        Field f = target.getClass().getDeclaredField(field);
        f.setAccessible(true);
        f.setLong(target, value);
    }
}
