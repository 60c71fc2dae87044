package io.tailwire.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The named timer table AgentConnection schedules with (issue 12 point 2). */
class TimerTableTest {
    private enum T { A, B, C }

    private final TimerTable<T> timers = new TimerTable<>(T.class);

    @Test
    void aTimerExpiresAtItsDeadlineAndNotBefore() {
        timers.set(T.A, 1_000);
        assertFalse(timers.isExpired(T.A, 999));
        assertTrue(timers.isExpired(T.A, 1_000));
        assertTrue(timers.isExpired(T.A, 5_000));
    }

    @Test
    void aDeadlineJustBeforeTheClockWrapsStillExpiresAfterTheWrap() {
        // System.nanoTime may wrap: a deadline set before the wrap is due after it.
        timers.set(T.A, Long.MAX_VALUE - 5);
        assertFalse(timers.isExpired(T.A, Long.MAX_VALUE - 10));
        assertTrue(timers.isExpired(T.A, Long.MIN_VALUE + 3));
    }

    @Test
    void aStoppedTimerNeverExpiresWhateverTheClockReads() {
        timers.set(T.B, 10);
        timers.stop(T.B);
        assertFalse(timers.isSet(T.B));
        // A negative clock (nanoTime's origin is arbitrary) must not read "off" as overdue.
        for (long now : new long[] {Long.MIN_VALUE + 1, -1_000_000_000L, -1, 0, 10, Long.MAX_VALUE - 1}) {
            assertFalse(timers.isExpired(T.B, now), "stopped timer expired at " + now);
        }
    }

    @Test
    void aTimerDueAtTheNextPollExpiresWhateverTheClockAndComesFirst() {
        timers.set(T.A, 50);
        timers.setDue(T.C);
        assertTrue(timers.isSet(T.C));
        assertTrue(timers.isExpired(T.C, Long.MIN_VALUE + 1));
        assertTrue(timers.isExpired(T.C, 0));
        assertEquals(Long.MIN_VALUE, timers.next());
    }

    @Test
    void nextIsTheEarliestArmedDeadlineAndNoneWhenAllAreStopped() {
        assertEquals(Long.MAX_VALUE, timers.next());
        timers.set(T.A, 300);
        timers.set(T.B, 200);
        timers.set(T.C, 400);
        assertEquals(200, timers.next());
        timers.stop(T.B);
        assertEquals(300, timers.next());
        timers.set(T.A, 500); // re-arming replaces the old deadline
        assertEquals(400, timers.next());
        timers.stop(T.A);
        timers.stop(T.C);
        assertEquals(Long.MAX_VALUE, timers.next());
    }
}
