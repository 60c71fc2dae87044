package io.tailwire.fault;

import java.util.ArrayDeque;

/**
 * What one direction of a link does to each datagram under a {@link FaultModel}: the one implementation,
 * shared by the simulators' links, the engine tests' virtual network and udp-chaos. Holds the direction's
 * state (Gilbert-Elliott chain, bottleneck queue, policer bucket); no clock, no sockets, no partitions (the
 * caller owns time windows and routing).
 *
 * <p>Order on {@link #send}: bottleneck queue (tail drop), Bernoulli loss, policer, Gilbert-Elliott loss,
 * duplication; then per copy: delay + jitter, reordering extra delay, corruption. The order of the random
 * draws is part of the contract: the simulators' seeds replay only while it stays the same.
 */
public final class FaultLane {
    /** Why a datagram was dropped; {@link #why} is the word the simulator's trace uses. */
    public enum Drop {
        QUEUE_FULL("queue-full"), LOSS("loss"), POLICED("policed"), BURST_LOSS("burst-loss"),
        GE_GOOD_LOSS("ge-good-loss");

        public final String why;

        Drop(String why) {
            this.why = why;
        }

        /** Dropped by Bernoulli or Gilbert-Elliott loss (not by a queue or a policer). */
        public boolean isLoss() {
            return this == LOSS || this == BURST_LOSS || this == GE_GOOD_LOSS;
        }
    }

    /** Receives each copy that survives, in the order the copies were decided. */
    public interface Sink {
        /**
         * @param data      a copy of the datagram (bits flipped if corrupted), or null when send() got no bytes
         * @param arrival   when it arrives, nanoseconds on the caller's clock
         * @param duplicate the second copy of a duplicated datagram
         */
        void copy(byte[] data, long arrival, boolean duplicate, boolean reordered, boolean corrupted);
    }

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final FaultRandom random;
    private FaultModel model;

    private boolean geBad;
    // Bottleneck FIFO: departure time and size of each datagram not yet fully transmitted.
    private final ArrayDeque<long[]> queue = new ArrayDeque<>();
    private long queueBytes;
    private long busyUntil = Long.MIN_VALUE;
    private long maxQueueBytes;
    private int maxQueuePackets;

    private double tokens = Double.NaN; // NaN: the bucket has not started (it starts full)
    private long lastRefill = Long.MIN_VALUE;

    public FaultLane(FaultModel model, FaultRandom random) {
        this.model = model;
        this.random = random;
    }

    public FaultModel model() {
        return model;
    }

    /** Replaces the fault model (takes effect for the next send; queued datagrams keep their schedule). */
    public void setModel(FaultModel m) {
        this.model = m;
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

    public long maxQueueBytes() {
        return maxQueueBytes;
    }

    public int maxQueuePackets() {
        return maxQueuePackets;
    }

    private void prune(long now) {
        while (!queue.isEmpty() && queue.peekFirst()[0] <= now) {
            queueBytes -= queue.pollFirst()[1];
        }
    }

    /**
     * Decides the fate of one datagram of {@code length} bytes sent at {@code now}: returns why it was
     * dropped, or null after handing each surviving copy to {@code sink}. data may be null when the caller
     * forwards its own bytes (then nothing can be corrupted); otherwise it is not modified.
     */
    public Drop send(byte[] data, int length, long now, Sink sink) {
        FaultModel m = model;
        long departure = now;
        if (m.bandwidthBytesPerSecond > 0) {
            prune(now);
            if (queueBytes + length > m.queueLimitBytes) {
                return Drop.QUEUE_FULL;
            }
            long start = Math.max(now, busyUntil);
            // Round transmission time up so the link never carries more than its bandwidth.
            long tx = ceilDiv(length * NANOS_PER_SECOND, m.bandwidthBytesPerSecond);
            departure = start + tx;
            busyUntil = departure;
            queue.addLast(new long[] {departure, length});
            queueBytes += length;
            maxQueueBytes = Math.max(maxQueueBytes, queueBytes);
            maxQueuePackets = Math.max(maxQueuePackets, queue.size());
        }
        if (random.chance(FaultRandom.Draw.LOSS, m.lossProbability)) {
            return Drop.LOSS;
        }
        if (m.policeBytesPerSecond > 0 && !takeTokens(m, now, length)) {
            return Drop.POLICED;
        }
        if (m.gilbertElliott) {
            geBad = geBad ? !random.chance(FaultRandom.Draw.BURST_STATE, m.pBadToGood)
                : random.chance(FaultRandom.Draw.BURST_STATE, m.pGoodToBad);
            if (random.chance(FaultRandom.Draw.BURST_LOSS, geBad ? m.lossInBad : m.lossInGood)) {
                return geBad ? Drop.BURST_LOSS : Drop.GE_GOOD_LOSS;
            }
        }
        int copies = random.chance(FaultRandom.Draw.DUPLICATE, m.duplicateProbability) ? 2 : 1;
        for (int c = 0; c < copies; c++) {
            long arrival = departure + m.delayNanos;
            if (m.jitterNanos > 0) {
                arrival += random.nextLong(FaultRandom.Draw.JITTER, 0, m.jitterNanos + 1);
            }
            boolean reordered = false;
            if (m.reorderMaxExtraNanos > 0 && random.chance(FaultRandom.Draw.REORDER, m.reorderProbability)) {
                arrival += random.nextLong(FaultRandom.Draw.REORDER_DELAY, 1, m.reorderMaxExtraNanos + 1);
                reordered = true;
            }
            byte[] copy = data == null ? null : data.clone();
            boolean corrupted = false;
            if (copy != null && copy.length > 0 && random.chance(FaultRandom.Draw.CORRUPT, m.corruptProbability)) {
                flipBits(copy, 1 + random.nextInt(FaultRandom.Draw.CORRUPT_FLIPS, m.corruptMaxBitFlips));
                corrupted = true;
            }
            sink.copy(copy, arrival, c > 0, reordered, corrupted);
        }
        return null;
    }

    private boolean takeTokens(FaultModel m, long now, int length) {
        if (Double.isNaN(tokens)) {
            tokens = m.policeBurstBytes;
        }
        if (lastRefill != Long.MIN_VALUE && now > lastRefill) {
            tokens = Math.min(m.policeBurstBytes,
                tokens + (now - lastRefill) * (m.policeBytesPerSecond / (double) NANOS_PER_SECOND));
        }
        lastRefill = Math.max(now, lastRefill == Long.MIN_VALUE ? now : lastRefill);
        if (tokens < length) {
            return false;
        }
        tokens -= length;
        return true;
    }

    /** Flips n distinct bits (fewer if the datagram is shorter), so a flip never undoes another. */
    private void flipBits(byte[] b, int n) {
        int bits = b.length * 8;
        int k = Math.min(n, bits);
        long[] chosen = new long[k];
        int have = 0;
        while (have < k) {
            int bit = random.nextInt(FaultRandom.Draw.CORRUPT_BIT, bits);
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

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }
}
