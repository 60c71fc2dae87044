package io.tailwire.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;

import com.google.protobuf.ByteString;

import org.junit.jupiter.api.Test;

/**
 * ServerTimers against a brute-force scan of the same connections: after any sequence of joins, leaves and
 * changed deadlines or flags, the earliest deadline, the expired set and the watched positions are what
 * scanning every connection finds. Seeds are printed in the failure message and replay exactly.
 */
class ServerTimersTest {
    static final long IDLE_NS = 30_000_000_000L;

    private static ServerConnection conn(long id, long nowNs) {
        return new ServerConnection(id, "a" + id, new InetSocketAddress("10.0.0.1", (int) (1000 + id % 60000)), id,
            ByteString.EMPTY, new byte[0], 1400, nowNs, 64 * 1024);
    }

    private static long bruteEarliest(ServerTimers t, List<ServerConnection> list) {
        long d = Long.MAX_VALUE;
        for (ServerConnection c : list) {
            d = Math.min(d, t.key(c));
        }
        return d;
    }

    @Test
    void earliestExpiredAndWatchedMatchAScanOfEveryConnectionAfterRandomChanges() {
        for (long seed = 1; seed <= 40; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            ServerTimers t = new ServerTimers(IDLE_NS);
            List<ServerConnection> list = new ArrayList<>();
            long now = 1_000_000_000L;
            long nextId = 1;
            for (int step = 0; step < 2000; step++) {
                now += r.nextLong(0, 5_000_000L);
                int op = r.nextInt(10);
                if (op < 3 || list.isEmpty()) {
                    ServerConnection c = conn(nextId++, now);
                    c.position = list.size();
                    list.add(c);
                    t.added(c, c.position);
                } else if (op < 5) {
                    int p = r.nextInt(list.size());
                    ServerConnection c = list.remove(p);
                    for (int q = p; q < list.size(); q++) {
                        list.get(q).position = q;
                    }
                    t.removed(c, p, list.size() + 1);
                } else {
                    ServerConnection c = list.get(r.nextInt(list.size()));
                    switch (r.nextInt(6)) {
                        case 0 -> c.lastReceivedNs = now;
                        case 1 -> {
                            c.unackedData = r.nextInt(2);
                            c.ackDeadlineNs = c.unackedData > 0 ? now + 1_000_000L : Long.MAX_VALUE;
                        }
                        case 2 -> c.stalledUntilNs = r.nextBoolean() ? now + 10_000_000L : Long.MAX_VALUE;
                        case 3 -> c.limiterTimerNs = r.nextBoolean() ? now + r.nextLong(1, 100_000_000L) : Long.MAX_VALUE;
                        case 4 -> c.ackNow = r.nextBoolean();
                        default -> c.lastAdvertisedWindow = r.nextBoolean() ? 0 : 64 * 1024;
                    }
                    t.refresh(c, c.position);
                }
                String where = "seed " + seed + " step " + step;
                assertEquals(bruteEarliest(t, list), t.earliest(), where);
                long probe = now + r.nextLong(0, IDLE_NS);
                List<ServerConnection> due = new ArrayList<>();
                t.collectExpired(probe, due);
                HashSet<ServerConnection> expected = new HashSet<>();
                for (ServerConnection c : list) {
                    if (probe - t.key(c) >= 0) {
                        expected.add(c);
                    }
                }
                assertEquals(expected, new HashSet<>(due), where);
                int watched = 0;
                for (ServerConnection c : list) {
                    assertEquals(ServerTimers.watches(c), t.isWatched(c.position), where + " position " + c.position);
                    watched += ServerTimers.watches(c) ? 1 : 0;
                }
                assertEquals(watched, t.watchedCount(), where);
            }
        }
    }

    @Test
    void nextSetFindsBitsAcrossWordsAndStopsAtTheLimit() {
        long[] bits = new long[3];
        bits[0] = 1L << 5;
        bits[2] = 1L << 1; // position 129
        assertEquals(5, ServerTimers.nextSet(bits, 0, 192));
        assertEquals(129, ServerTimers.nextSet(bits, 6, 192));
        assertEquals(-1, ServerTimers.nextSet(bits, 6, 129));
        assertEquals(-1, ServerTimers.nextSet(bits, 130, 192));
        assertEquals(-1, ServerTimers.nextSet(bits, 5, 5));
    }
}
