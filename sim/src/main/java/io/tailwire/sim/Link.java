package io.tailwire.sim;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** One direction between two addresses: its fault model, partition windows, bottleneck queue, counters. */
public final class Link {
    /** Counters since the link was created. */
    public static final class Stats {
        long sent;
        long bytesSent;
        long delivered;
        long bytesDelivered;
        long lost;
        long partitioned;
        long queueDrops;
        long duplicated;
        long reordered;
        long corrupted;
        long unroutable;
        long maxQueueBytes;
        int maxQueuePackets;

        /** Datagrams handed to send(). */
        public long sent() {
            return sent;
        }

        public long bytesSent() {
            return bytesSent;
        }

        /** Copies handed to a receiver (duplicates count once each). */
        public long delivered() {
            return delivered;
        }

        public long bytesDelivered() {
            return bytesDelivered;
        }

        /** Dropped by Bernoulli or Gilbert-Elliott loss. */
        public long lost() {
            return lost;
        }

        /** Dropped because a partition window covered the send or the arrival time. */
        public long partitioned() {
            return partitioned;
        }

        /** Tail-dropped at a full bottleneck queue. */
        public long queueDrops() {
            return queueDrops;
        }

        /** Extra copies made. */
        public long duplicated() {
            return duplicated;
        }

        /** Copies given the reordering extra delay. */
        public long reordered() {
            return reordered;
        }

        /** Copies delivered with flipped bits. */
        public long corrupted() {
            return corrupted;
        }

        /** Copies that arrived when no receiver was registered at the destination (process down). */
        public long unroutable() {
            return unroutable;
        }

        public long maxQueueBytes() {
            return maxQueueBytes;
        }

        public int maxQueuePackets() {
            return maxQueuePackets;
        }

        @Override
        public String toString() {
            return "sent=" + sent + " delivered=" + delivered + " lost=" + lost + " partitioned=" + partitioned
                + " queueDrops=" + queueDrops + " duplicated=" + duplicated + " reordered=" + reordered
                + " corrupted=" + corrupted + " unroutable=" + unroutable + " maxQueueBytes=" + maxQueueBytes;
        }
    }

    private final SimNetwork network;
    private final InetSocketAddress from;
    private final InetSocketAddress to;
    private final SimRandom random;
    private final Stats stats = new Stats();
    private final List<long[]> partitions = new ArrayList<>();
    private FaultModel model;

    private boolean geBad;
    // Bottleneck FIFO: departure time and size of each datagram not yet fully transmitted.
    private final ArrayDeque<long[]> queue = new ArrayDeque<>();
    private long queueBytes;
    private long busyUntil = Long.MIN_VALUE;

    Link(SimNetwork network, InetSocketAddress from, InetSocketAddress to, FaultModel model, SimRandom random) {
        this.network = network;
        this.from = from;
        this.to = to;
        this.model = model;
        this.random = random;
    }

    public InetSocketAddress from() {
        return from;
    }

    public InetSocketAddress to() {
        return to;
    }

    public FaultModel faultModel() {
        return model;
    }

    /** Replaces the fault model (takes effect for the next send; queued datagrams keep their schedule). */
    public Link setFaultModel(FaultModel m) {
        this.model = m;
        return this;
    }

    public Stats stats() {
        return stats;
    }

    /** Everything sent or arriving in [startNanos, endNanos) is dropped; the link heals at endNanos. */
    public Link partition(long startNanos, long endNanos) {
        if (endNanos < startNanos) {
            throw new IllegalArgumentException("window ends before it starts");
        }
        partitions.add(new long[] {startNanos, endNanos});
        return this;
    }

    public boolean isPartitioned(long t) {
        for (long[] w : partitions) {
            if (t >= w[0] && t < w[1]) {
                return true;
            }
        }
        return false;
    }

    /** True while the Gilbert-Elliott chain is in its bad state. */
    public boolean inBadState() {
        return geBad;
    }

    /** Bytes in the bottleneck queue at time now (the datagram being transmitted included). */
    public long queueBytes(long now) {
        prune(now);
        return queueBytes;
    }

    public int queuePackets(long now) {
        prune(now);
        return queue.size();
    }

    private void prune(long now) {
        while (!queue.isEmpty() && queue.peekFirst()[0] <= now) {
            queueBytes -= queue.pollFirst()[1];
        }
    }

    void send(byte[] data, long now) {
        FaultModel m = model;
        stats.sent++;
        stats.bytesSent += data.length;
        if (isPartitioned(now) || network.isIsolated(from, now) || network.isIsolated(to, now)) {
            stats.partitioned++;
            network.traceDrop(now, this, "partition", data.length);
            return;
        }
        long departure = now;
        if (m.bandwidthBytesPerSecond > 0) {
            prune(now);
            if (queueBytes + data.length > m.queueLimitBytes) {
                stats.queueDrops++;
                network.traceDrop(now, this, "queue-full", data.length);
                return;
            }
            long start = Math.max(now, busyUntil);
            // Round transmission time up so the link never carries more than its bandwidth.
            long tx = ceilDiv(data.length * 1_000_000_000L, m.bandwidthBytesPerSecond);
            departure = start + tx;
            busyUntil = departure;
            queue.addLast(new long[] {departure, data.length});
            queueBytes += data.length;
            stats.maxQueueBytes = Math.max(stats.maxQueueBytes, queueBytes);
            stats.maxQueuePackets = Math.max(stats.maxQueuePackets, queue.size());
        }
        if (random.chance(m.lossProbability)) {
            stats.lost++;
            network.traceDrop(now, this, "loss", data.length);
            return;
        }
        if (m.gilbertElliott) {
            geBad = geBad ? !random.chance(m.pBadToGood) : random.chance(m.pGoodToBad);
            if (random.chance(geBad ? m.lossInBad : m.lossInGood)) {
                stats.lost++;
                network.traceDrop(now, this, geBad ? "burst-loss" : "ge-good-loss", data.length);
                return;
            }
        }
        int copies = 1;
        if (random.chance(m.duplicateProbability)) {
            copies = 2;
            stats.duplicated++;
        }
        for (int c = 0; c < copies; c++) {
            long arrival = departure + m.delayNanos;
            if (m.jitterNanos > 0) {
                arrival += random.nextLong(0, m.jitterNanos + 1);
            }
            boolean reordered = false;
            if (m.reorderMaxExtraNanos > 0 && random.chance(m.reorderProbability)) {
                arrival += random.nextLong(1, m.reorderMaxExtraNanos + 1);
                reordered = true;
                stats.reordered++;
            }
            byte[] copy = data.clone();
            boolean corrupted = false;
            if (copy.length > 0 && random.chance(m.corruptProbability)) {
                flipBits(copy, 1 + random.nextInt(m.corruptMaxBitFlips));
                corrupted = true;
            }
            network.scheduleArrival(this, copy, now, arrival, c > 0, reordered, corrupted);
        }
    }

    /** Flips n distinct bits (fewer if the datagram is shorter), so a flip never undoes another. */
    private void flipBits(byte[] b, int n) {
        int bits = b.length * 8;
        int k = Math.min(n, bits);
        long[] chosen = new long[k];
        int have = 0;
        while (have < k) {
            int bit = random.nextInt(bits);
            boolean dup = false;
            for (int i = 0; i < have; i++) {
                if (chosen[i] == bit) {
                    dup = true;
                    break;
                }
            }
            if (!dup) {
                chosen[have++] = bit;
                b[bit >>> 3] ^= (byte) (1 << (bit & 7));
            }
        }
    }

    void countArrival(byte[] data, boolean corrupted, boolean routed) {
        if (!routed) {
            stats.unroutable++;
            return;
        }
        stats.delivered++;
        stats.bytesDelivered += data.length;
        if (corrupted) {
            stats.corrupted++;
        }
    }

    void countPartitionedArrival() {
        stats.partitioned++;
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }
}
