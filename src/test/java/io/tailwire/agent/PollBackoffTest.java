package io.tailwire.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PollBackoffTest {
    @Test
    void aBriefPauseOfTheWriterKeepsTheMinimumThenIdleScansBackOffToTheMaximum() {
        PollBackoff b = new PollBackoff(200_000, 10_000_000);
        for (int i = 0; i < PollBackoff.STAY_AT_MIN; i++) {
            assertEquals(200_000, b.next(false), "quiet scan " + (i + 1));
        }
        assertEquals(400_000, b.next(false));
        assertEquals(800_000, b.next(false));
        long last = 0;
        for (int i = 0; i < 20; i++) {
            last = b.next(false);
        }
        assertEquals(10_000_000, last);
        assertEquals(200_000, b.next(true), "a change brings it back at once");
        assertEquals(200_000, b.next(false), "and the quiet count starts again");
    }
}
