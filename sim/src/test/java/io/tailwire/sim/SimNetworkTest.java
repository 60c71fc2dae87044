package io.tailwire.sim;

import io.tailwire.fault.FaultModel;

import static io.tailwire.io.Units.NANOS_PER_MICRO;
import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class SimNetworkTest {
    static final InetSocketAddress A = new InetSocketAddress("10.0.0.1", 5000);
    static final InetSocketAddress B = new InetSocketAddress("10.0.0.2", 6000);

    record Arrival(int seq, long sentAt, long at, byte[] data) {
    }

    /** Sends n datagrams A->B, one every interval, each carrying its sequence number and send time. */
    static final class Harness {
        final Simulation sim;
        final List<Arrival> arrivals = new ArrayList<>();
        final long t0;

        Harness(long seed, FaultModel model) {
            sim = new Simulation(seed);
            sim.network().setTracePackets(false);
            sim.network().link(A, B).setFaultModel(model);
            sim.network().register(B, (from, data, now) -> {
                ByteBuffer bb = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
                arrivals.add(new Arrival(bb.getInt(0), bb.getLong(4), now, data));
            });
            t0 = sim.now();
        }

        Harness send(int n, long interval, int size) {
            for (int i = 0; i < n; i++) {
                final int seq = i;
                sim.at(t0 + i * interval, () -> sim.network().send(A, B, datagram(seq, sim.now(), size)));
            }
            return this;
        }

        Harness run() {
            Simulation.Result r = sim.runFor(3_600_000 * NANOS_PER_MILLI, 50_000_000);
            assertEquals(Simulation.Outcome.IDLE, r.outcome());
            return this;
        }

        Link.Stats stats() {
            return sim.network().link(A, B).stats();
        }

        boolean[] deliveredBySeq(int n) {
            boolean[] got = new boolean[n];
            for (Arrival a : arrivals) {
                got[a.seq] = true;
            }
            return got;
        }
    }

    /** seq, send time, filler, CRC32C of everything before it in the last 4 bytes. */
    static byte[] datagram(int seq, long sentAt, int size) {
        byte[] d = new byte[Math.max(size, 16)];
        ByteBuffer bb = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        bb.putInt(0, seq).putLong(4, sentAt);
        for (int i = 12; i < d.length - 4; i++) {
            d[i] = (byte) (seq * 31 + i);
        }
        bb.putInt(d.length - 4, crc(d));
        return d;
    }

    static int crc(byte[] d) {
        CRC32C c = new CRC32C();
        c.update(d, 0, d.length - 4);
        return (int) c.getValue();
    }

    static boolean crcOk(byte[] d) {
        return ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).getInt(d.length - 4) == crc(d);
    }

    @Test
    void bernoulliLossRateIsWithinStatisticalBoundsOfTheConfiguredProbability() {
        long seed = 1001;
        int n = 20_000;
        double p = 0.1;
        Harness h = new Harness(seed, FaultModel.perfect().loss(p)).send(n, 100 * NANOS_PER_MICRO, 64).run();
        double sd = Math.sqrt(n * p * (1 - p));
        long lost = n - h.arrivals.size();
        assertEquals(lost, h.stats().lost(), "seed " + seed);
        assertTrue(Math.abs(lost - n * p) < 6 * sd, "seed " + seed + ": lost " + lost + " of " + n + " at p=" + p);
    }

    /** Mean length of runs of consecutive lost sequence numbers. */
    static double meanLossBurst(boolean[] got) {
        int bursts = 0;
        int lost = 0;
        for (int i = 0; i < got.length; i++) {
            if (!got[i]) {
                lost++;
                if (i == 0 || got[i - 1]) {
                    bursts++;
                }
            }
        }
        return bursts == 0 ? 0 : (double) lost / bursts;
    }

    @Test
    void gilbertElliottLossComesInBurstsLongerThanIndependentLossAtTheSameRate() {
        long seed = 2002;
        int n = 20_000;
        // Bad state lasts 1/0.25 = 4 datagrams on average and loses everything; stationary loss 0.02/0.27.
        Harness ge = new Harness(seed, FaultModel.perfect().gilbertElliott(0.02, 0.25, 0, 1)).send(n, 100 * NANOS_PER_MICRO, 64)
            .run();
        double geBurst = meanLossBurst(ge.deliveredBySeq(n));
        double rate = (double) ge.stats().lost() / n;
        Harness bern = new Harness(seed, FaultModel.perfect().loss(rate)).send(n, 100 * NANOS_PER_MICRO, 64).run();
        double bernBurst = meanLossBurst(bern.deliveredBySeq(n));
        assertTrue(rate > 0.03 && rate < 0.12, "seed " + seed + ": GE loss rate " + rate);
        assertTrue(geBurst > 2.5, "seed " + seed + ": GE mean burst " + geBurst);
        assertTrue(bernBurst < 1.5, "seed " + seed + ": Bernoulli mean burst " + bernBurst);
    }

    @Test
    void partitionDropsEverythingSentOrArrivingInsideTheWindowAndNothingOutside() {
        long seed = 3003;
        long delay = 1 * NANOS_PER_MILLI;
        int n = 1000;
        long interval = 100 * NANOS_PER_MICRO;
        Simulation probe = new Simulation(seed);
        long t0 = probe.now();
        long start = t0 + 30 * NANOS_PER_MILLI;
        long end = t0 + 60 * NANOS_PER_MILLI;
        Harness h = new Harness(seed, FaultModel.perfect().delay(delay, 0));
        h.sim.network().link(A, B).partition(start, end);
        h.send(n, interval, 64).run();
        boolean[] got = h.deliveredBySeq(n);
        int inside = 0;
        for (int i = 0; i < n; i++) {
            long sent = t0 + i * interval;
            long arrive = sent + delay;
            boolean cut = (sent >= start && sent < end) || (arrive >= start && arrive < end);
            if (cut) {
                inside++;
            }
            assertEquals(!cut, got[i], "seed " + seed + ": datagram " + i + " sent at +" + (sent - t0));
        }
        assertEquals(inside, h.stats().partitioned());
        assertTrue(inside > 0 && inside < n);
    }

    @Test
    void bottleneckQueueNeverExceedsItsLimitAndThroughputNeverExceedsTheBandwidth() {
        long seed = 4004;
        long bw = 1_000_000; // bytes per second
        long limit = 10_000;
        Simulation sim = new Simulation(seed);
        sim.network().setTracePackets(false);
        Link link = sim.network().link(A, B).setFaultModel(FaultModel.perfect().bottleneck(bw, limit));
        List<long[]> arrivals = new ArrayList<>(); // time, bytes
        sim.network().register(B, (from, data, now) -> arrivals.add(new long[] {now, data.length}));
        SimRandom sizes = sim.random().child("sizes");
        long t0 = sim.now();
        long worstQueue = 0;
        long offered = 0;
        // Offer about twice the bandwidth: 1200-byte mean every 0.6 ms.
        for (int i = 0; i < 5000; i++) {
            final int size = 200 + sizes.nextInt(2000);
            offered += size;
            sim.at(t0 + i * 600 * NANOS_PER_MICRO, () -> sim.network().send(A, B, new byte[size]));
        }
        while (sim.runUntil(() -> false, Long.MAX_VALUE, 1).steps() > 0) {
            long q = link.queueBytes(sim.now());
            worstQueue = Math.max(worstQueue, q);
            assertTrue(q <= limit, "seed " + seed + ": queue " + q + " > " + limit + " at " + sim.now());
        }
        Link.Stats s = link.stats();
        assertTrue(s.maxQueueBytes() <= limit, "seed " + seed + ": max queue " + s.maxQueueBytes());
        assertTrue(s.queueDrops() > 0, "seed " + seed + ": an overloaded bottleneck must drop");
        assertTrue(worstQueue > limit / 2, "seed " + seed + ": queue never filled: " + worstQueue);
        assertEquals(s.sent(), s.delivered() + s.queueDrops());
        assertTrue(offered > s.bytesDelivered());
        // Bytes arriving in any window (t_i, t_j] were all transmitted inside [t_i, t_j].
        for (int i = 0; i < arrivals.size(); i++) {
            long bytes = 0;
            for (int j = i + 1; j < arrivals.size() && j < i + 300; j++) {
                bytes += arrivals.get(j)[1];
                long window = arrivals.get(j)[0] - arrivals.get(i)[0];
                assertTrue(bytes * 1_000_000_000L <= bw * window,
                    "seed " + seed + ": " + bytes + " bytes in " + window + " ns between arrivals " + i + ".." + j);
            }
        }
    }

    @Test
    void duplicationDeliversExtraCopiesAtAboutTheConfiguredRate() {
        long seed = 5005;
        int n = 10_000;
        double p = 0.2;
        Harness h = new Harness(seed, FaultModel.perfect().duplicate(p).delay(NANOS_PER_MILLI, 500 * NANOS_PER_MICRO))
            .send(n, 100 * NANOS_PER_MICRO, 32).run();
        assertEquals(n + h.stats().duplicated(), h.arrivals.size());
        double sd = Math.sqrt(n * p * (1 - p));
        assertTrue(Math.abs(h.stats().duplicated() - n * p) < 6 * sd, "seed " + seed + ": " + h.stats());
        int[] copies = new int[n];
        for (Arrival a : h.arrivals) {
            copies[a.seq]++;
        }
        for (int c : copies) {
            assertTrue(c == 1 || c == 2, "seed " + seed);
        }
    }

    @Test
    void reorderingMakesSomeDatagramsArriveAfterLaterOnesAndNoReorderingKeepsOrder() {
        long seed = 6006;
        int n = 5000;
        Harness r = new Harness(seed, FaultModel.perfect().delay(NANOS_PER_MILLI, 0).reorder(0.1, 5 * NANOS_PER_MILLI))
            .send(n, 100 * NANOS_PER_MICRO, 32).run();
        Harness plain = new Harness(seed, FaultModel.perfect().delay(NANOS_PER_MILLI, 0))
            .send(n, 100 * NANOS_PER_MICRO, 32).run();
        assertTrue(r.stats().reordered() > 0);
        assertTrue(inversions(r.arrivals) > 0, "seed " + seed);
        assertEquals(0, inversions(plain.arrivals), "seed " + seed);
        assertEquals(n, r.arrivals.size());
        for (Arrival a : r.arrivals) {
            long late = a.at - a.sentAt - NANOS_PER_MILLI;
            assertTrue(late >= 0 && late <= 5 * NANOS_PER_MILLI, "seed " + seed + ": extra delay " + late);
        }
    }

    static int inversions(List<Arrival> arrivals) {
        int inv = 0;
        for (int i = 1; i < arrivals.size(); i++) {
            if (arrivals.get(i).seq < arrivals.get(i - 1).seq) {
                inv++;
            }
        }
        return inv;
    }

    @Test
    void corruptedDatagramsFailTheCrc32cCheckAndOthersPassIt() {
        long seed = 7007;
        int n = 10_000;
        Harness h = new Harness(seed, FaultModel.perfect().corrupt(0.05, 3)).send(n, 100 * NANOS_PER_MICRO, 200).run();
        int bad = 0;
        for (Arrival a : h.arrivals) {
            if (!crcOk(a.data)) {
                bad++;
            }
        }
        assertEquals(h.stats().corrupted(), bad, "seed " + seed);
        assertTrue(bad > 0, "seed " + seed);
    }

    @Test
    void datagramsToAnUnregisteredAddressAreCountedUnroutableNotDelivered() {
        Harness h = new Harness(8008, FaultModel.perfect().delay(NANOS_PER_MILLI, 0));
        h.sim.network().unregister(B);
        h.send(10, NANOS_PER_MILLI, 32).run();
        assertTrue(h.arrivals.isEmpty());
        assertEquals(10, h.stats().unroutable());
        assertEquals(0, h.stats().delivered());
    }

    @Test
    void trafficOnOneLinkDoesNotChangeTheRandomChoicesOfAnother() {
        long seed = 9009;
        FaultModel lossy = FaultModel.perfect().loss(0.3);
        Harness alone = new Harness(seed, lossy.copy()).send(2000, 100 * NANOS_PER_MICRO, 32);
        Harness busy = new Harness(seed, lossy.copy()).send(2000, 100 * NANOS_PER_MICRO, 32);
        InetSocketAddress c = new InetSocketAddress("10.0.0.3", 7000);
        busy.sim.network().setDefaultFaultModel(lossy.copy());
        for (int i = 0; i < 3000; i++) {
            busy.sim.at(busy.t0 + i * 37 * NANOS_PER_MICRO, () -> busy.sim.network().send(c, B, datagram(-1, 0, 32)));
        }
        alone.run();
        busy.run();
        boolean[] a = alone.deliveredBySeq(2000);
        boolean[] b = new boolean[2000];
        for (Arrival x : busy.arrivals) {
            if (x.seq >= 0) {
                b[x.seq] = true;
            }
        }
        for (int i = 0; i < 2000; i++) {
            assertEquals(a[i], b[i], "seed " + seed + ": datagram " + i);
        }
        assertNotEquals(0, busy.sim.network().link(c, B).stats().lost());
        assertFalse(alone.arrivals.isEmpty());
    }
}
