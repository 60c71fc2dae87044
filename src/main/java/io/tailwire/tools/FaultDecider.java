package io.tailwire.tools;

import io.tailwire.fault.FaultLane;
import io.tailwire.fault.FaultModel;
import io.tailwire.fault.FaultRandom;

import java.util.SplittableRandom;

/**
 * Decides, for one direction, what happens to each datagram. Pure: the caller passes the time (nanoseconds
 * since the proxy started) and the length. Loss, the policer, duplication and delay are decided by the one
 * fault model ({@link FaultLane} under a {@link FaultModel} built from the {@link ChaosConfig}); blackouts and
 * the hold-until-the-next-datagram reordering are udp-chaos's own. Every decision draws the same number of
 * random values whatever the outcome (five, up front, one per purpose), so changing one probability does not
 * shift the random choices of the other faults.
 */
public final class FaultDecider {
    public enum Action { FORWARD, DROP_LOSS, DROP_BLACKOUT, DROP_RATE }

    /** The outcome of one decide() call; reused, valid until the next call. */
    public static final class Decision {
        public Action action;
        /** 1, or 2 when duplicated. */
        public int copies;
        public boolean reorder;
        public long delayNanos;
        /** Delay of the duplicate, when copies == 2. */
        public long dupDelayNanos;
    }

    private final ChaosConfig cfg;
    private final DrawsPerDatagram draws;
    private final FaultLane lane;
    private final Decision d = new Decision();
    private long now;

    public FaultDecider(ChaosConfig cfg, long seed) {
        this.cfg = cfg;
        this.draws = new DrawsPerDatagram(new SplittableRandom(seed));
        // Jitter is uniform in [0, jitter]; chaos's reordering is a hold (ChaosLane), not the model's extra delay.
        this.lane = new FaultLane(FaultModel.perfect().loss(cfg.loss()).duplicate(cfg.dup())
            .delay(cfg.delayNanos(), cfg.jitterNanos()).police(cfg.rateBytesPerSec(), cfg.burstBytes()), draws);
    }

    public Decision decide(long nowNanos, int length) {
        draws.next();
        this.now = nowNanos;
        d.copies = 0;
        d.reorder = false;
        d.delayNanos = 0;
        d.dupDelayNanos = 0;
        for (ChaosConfig.Blackout b : cfg.blackouts()) {
            if (b.covers(nowNanos)) {
                d.action = Action.DROP_BLACKOUT;
                return d;
            }
        }
        FaultLane.Drop drop = lane.send(null, length, nowNanos, this::copy);
        if (drop != null) {
            d.action = drop == FaultLane.Drop.POLICED ? Action.DROP_RATE : Action.DROP_LOSS;
            d.copies = 0;
            return d;
        }
        d.action = Action.FORWARD;
        // nextDouble is in [0, 1): reorder 0 never holds, reorder 1 always does.
        d.reorder = draws.reorder < cfg.reorder();
        return d;
    }

    private void copy(byte[] ignored, long arrival, boolean duplicate, boolean reordered, boolean corrupted) {
        d.copies++;
        if (duplicate) {
            // The duplicate never leaves before the original.
            d.dupDelayNanos = Math.max(d.delayNanos, arrival - now);
        } else {
            d.delayNanos = arrival - now;
        }
    }

    /** Answers each purpose from a value drawn up front for the datagram; the two copies get their own jitter. */
    private static final class DrawsPerDatagram implements FaultRandom {
        private final SplittableRandom random;
        private double loss;
        private double dup;
        double reorder;
        private final long[] jitter = new long[2];
        private int jitterUsed;

        DrawsPerDatagram(SplittableRandom random) {
            this.random = random;
        }

        void next() {
            loss = random.nextDouble();
            dup = random.nextDouble();
            reorder = random.nextDouble();
            jitter[0] = random.nextLong();
            jitter[1] = random.nextLong();
            jitterUsed = 0;
        }

        @Override
        public double nextDouble(Draw what) {
            return switch (what) {
                case LOSS -> loss;
                case DUPLICATE -> dup;
                default -> throw new IllegalStateException("udp-chaos does not draw " + what);
            };
        }

        /** Uniform in [lo, hi) (the modulo bias is below 1e-9 for any sane jitter). */
        @Override
        public long nextLong(Draw what, long lo, long hi) {
            if (what != Draw.JITTER || jitterUsed == jitter.length) {
                throw new IllegalStateException("udp-chaos does not draw " + what);
            }
            return lo + Math.floorMod(jitter[jitterUsed++], hi - lo);
        }

        @Override
        public int nextInt(Draw what, int bound) {
            throw new IllegalStateException("udp-chaos does not draw " + what);
        }
    }
}
