package io.tailwire.tools;

import java.util.SplittableRandom;

/**
 * Decides, for one direction, what happens to each datagram. Pure: the caller passes the time (nanoseconds
 * since the proxy started) and the length; the only state is a seeded random stream and the policer bucket.
 * Every decision draws the same number of random values whatever the outcome, so changing one probability
 * does not shift the random choices of the other faults.
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
    private final SplittableRandom random;
    private final Decision d = new Decision();
    private double tokens;
    private long lastRefill = Long.MIN_VALUE;

    public FaultDecider(ChaosConfig cfg, long seed) {
        this.cfg = cfg;
        this.random = new SplittableRandom(seed);
        this.tokens = cfg.burstBytes();
    }

    public Decision decide(long nowNanos, int length) {
        double lossDraw = random.nextDouble();
        double dupDraw = random.nextDouble();
        double reorderDraw = random.nextDouble();
        long jitter1 = jitter(random.nextLong());
        long jitter2 = jitter(random.nextLong());

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
        // nextDouble is in [0, 1): loss 0 never drops, loss 1 always does.
        if (lossDraw < cfg.loss()) {
            d.action = Action.DROP_LOSS;
            return d;
        }
        if (cfg.rateBytesPerSec() > 0 && !takeTokens(nowNanos, length)) {
            d.action = Action.DROP_RATE;
            return d;
        }
        d.action = Action.FORWARD;
        d.copies = dupDraw < cfg.dup() ? 2 : 1;
        d.reorder = reorderDraw < cfg.reorder();
        d.delayNanos = cfg.delayNanos() + jitter1;
        // The duplicate never leaves before the original.
        d.dupDelayNanos = Math.max(d.delayNanos, cfg.delayNanos() + jitter2);
        return d;
    }

    /** Uniform in [0, jitter] (the modulo bias is below 1e-9 for any sane jitter). */
    private long jitter(long raw) {
        return cfg.jitterNanos() > 0 ? Math.floorMod(raw, cfg.jitterNanos() + 1) : 0;
    }

    private boolean takeTokens(long now, int length) {
        if (lastRefill != Long.MIN_VALUE && now > lastRefill) {
            tokens = Math.min(cfg.burstBytes(), tokens + (now - lastRefill) * (cfg.rateBytesPerSec() / 1e9));
        }
        lastRefill = Math.max(now, lastRefill == Long.MIN_VALUE ? now : lastRefill);
        if (tokens < length) {
            return false;
        }
        tokens -= length;
        return true;
    }
}
