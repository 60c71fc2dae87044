package io.tailwire.tools;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChaosLaneTest {
    private static byte[] dgram(int n) {
        return new byte[] {(byte) n, (byte) (n >> 8)};
    }

    private static int id(ChaosLane.Pending<String> p) {
        return (p.data[0] & 0xff) | (p.data[1] & 0xff) << 8;
    }

    private static List<Integer> drain(ChaosLane<String> lane, long now) {
        List<Integer> out = new ArrayList<>();
        ChaosLane.Pending<String> p;
        while ((p = lane.poll(now)) != null) {
            out.add(id(p));
        }
        return out;
    }

    @Test
    void withoutFaultsDatagramsLeaveAtOnceInOrder() {
        ChaosLane<String> lane = new ChaosLane<>(ChaosConfig.none(), 1);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            lane.offer(i, dgram(i), "c");
            out.addAll(drain(lane, i));
        }
        assertEquals(java.util.stream.IntStream.range(0, 100).boxed().toList(), out);
        assertEquals(100, lane.counters().forwarded);
        assertEquals(0, lane.backlog());
    }

    @Test
    void reorderOneSwapsEveryPair() {
        ChaosLane<String> lane = new ChaosLane<>(new ChaosConfig(0, 0, 1, 0, 0, List.of(), 0, 0, 50 * NANOS_PER_MILLI), 1);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            lane.offer(i, dgram(i), "c");
            out.addAll(drain(lane, i));
        }
        assertEquals(List.of(1, 0, 3, 2, 5, 4, 7, 6, 9, 8), out);
        assertEquals(5, lane.counters().reordered);
    }

    @Test
    void aHeldDatagramGoesOutAloneAfterTheHoldTime() {
        ChaosLane<String> lane = new ChaosLane<>(new ChaosConfig(0, 0, 1, 0, 0, List.of(), 0, 0, 50 * NANOS_PER_MILLI), 1);
        lane.offer(0, dgram(7), "c");
        assertNull(lane.poll(50 * NANOS_PER_MILLI - 1));
        assertEquals(50 * NANOS_PER_MILLI, lane.nextDeadline());
        assertEquals(List.of(7), drain(lane, 50 * NANOS_PER_MILLI));
        assertEquals(1, lane.counters().reorderTimeouts);
        assertEquals(0, lane.counters().reordered);
    }

    @Test
    void aDelayedDatagramIsNotDueBeforeItsDelay() {
        ChaosLane<String> lane = new ChaosLane<>(new ChaosConfig(0, 0, 0, 20 * NANOS_PER_MILLI, 0, List.of(), 0, 0, 0), 1);
        lane.offer(5 * NANOS_PER_MILLI, dgram(1), "c");
        assertNull(lane.poll(25 * NANOS_PER_MILLI - 1));
        assertEquals(25 * NANOS_PER_MILLI, lane.nextDeadline());
        assertEquals(List.of(1), drain(lane, 25 * NANOS_PER_MILLI));
        assertEquals(1, lane.counters().delayed);
    }

    @Test
    void dupOneSendsEveryDatagramTwice() {
        ChaosLane<String> lane = new ChaosLane<>(new ChaosConfig(0, 1, 0, 0, 0, List.of(), 0, 0, 0), 1);
        for (int i = 0; i < 5; i++) {
            lane.offer(i, dgram(i), "c");
        }
        assertEquals(List.of(0, 0, 1, 1, 2, 2, 3, 3, 4, 4), drain(lane, 10));
        assertEquals(5, lane.counters().duplicated);
    }

    @Property(tries = 30)
    void everyDatagramIsDroppedOrForwardedAndDuplicatesAreTheOnlyExtras(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        ChaosConfig c = new ChaosConfig(r.nextDouble(0.5), r.nextDouble(0.5), r.nextDouble(0.5),
            r.nextLong(20) * NANOS_PER_MILLI, r.nextLong(20) * NANOS_PER_MILLI,
            List.of(new ChaosConfig.Blackout(r.nextLong(500) * NANOS_PER_MILLI, r.nextLong(200) * NANOS_PER_MILLI)),
            r.nextBoolean() ? 0 : 1_000_000, 20_000, r.nextLong(1, 30) * NANOS_PER_MILLI);
        ChaosLane<String> lane = new ChaosLane<>(c, seed);
        int[] seen = new int[2000];
        long t = 0;
        for (int i = 0; i < 2000; i++) {
            t += r.nextLong(2 * NANOS_PER_MILLI);
            byte[] d = dgram(i);
            lane.offer(t, java.util.Arrays.copyOf(d, 100 + r.nextInt(1000)), "c");
            for (int x : drain(lane, t)) {
                seen[x]++;
            }
        }
        for (int x : drain(lane, t + 10_000 * NANOS_PER_MILLI)) {
            seen[x]++;
        }
        ChaosLane.Counters k = lane.counters();
        assertEquals(0, lane.backlog());
        long dropped = k.lossDrops + k.blackoutDrops + k.rateDrops;
        assertEquals(k.received - dropped + k.duplicated, k.forwarded);
        long zero = 0;
        long twice = 0;
        for (int n : seen) {
            assertTrue(n <= 2);
            zero += n == 0 ? 1 : 0;
            twice += n == 2 ? 1 : 0;
        }
        assertEquals(dropped, zero);
        assertEquals(k.duplicated, twice);
    }
}
