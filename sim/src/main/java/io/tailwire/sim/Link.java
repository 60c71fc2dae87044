package io.tailwire.sim;

import io.tailwire.fault.FaultLane;
import io.tailwire.fault.FaultModel;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * One direction between two addresses: its partition windows and counters around a {@link FaultLane}, which
 * decides (under the link's {@link FaultModel}) what happens to each datagram.
 */
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

        /** Dropped by Bernoulli or Gilbert-Elliott loss (or a policer, which the simulators do not set). */
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
    private final FaultLane lane;
    private final Stats stats = new Stats();
    private final List<long[]> partitions = new ArrayList<>();

    Link(SimNetwork network, InetSocketAddress from, InetSocketAddress to, FaultModel model, SimRandom random) {
        this.network = network;
        this.from = from;
        this.to = to;
        this.lane = new FaultLane(model, random);
    }

    public InetSocketAddress from() {
        return from;
    }

    public InetSocketAddress to() {
        return to;
    }

    public FaultModel faultModel() {
        return lane.model();
    }

    /** Replaces the fault model (takes effect for the next send; queued datagrams keep their schedule). */
    public Link setFaultModel(FaultModel m) {
        lane.setModel(m);
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
        return lane.inBadState();
    }

    /** Bytes in the bottleneck queue at time now (the datagram being transmitted included). */
    public long queueBytes(long now) {
        return lane.queueBytes(now);
    }

    public int queuePackets(long now) {
        return lane.queuePackets(now);
    }

    void send(byte[] data, long now) {
        stats.sent++;
        stats.bytesSent += data.length;
        if (isPartitioned(now) || network.isIsolated(from, now) || network.isIsolated(to, now)) {
            stats.partitioned++;
            network.traceDrop(now, this, "partition", data.length);
            return;
        }
        FaultLane.Drop drop = lane.send(data, data.length, now, (copy, arrival, duplicate, reordered, corrupted) -> {
            if (duplicate) {
                stats.duplicated++;
            }
            if (reordered) {
                stats.reordered++;
            }
            network.scheduleArrival(this, copy, now, arrival, duplicate, reordered, corrupted);
        });
        stats.maxQueueBytes = lane.maxQueueBytes();
        stats.maxQueuePackets = lane.maxQueuePackets();
        if (drop != null) {
            if (drop == FaultLane.Drop.QUEUE_FULL) {
                stats.queueDrops++;
            } else {
                stats.lost++;
            }
            network.traceDrop(now, this, drop.why, data.length);
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

}
