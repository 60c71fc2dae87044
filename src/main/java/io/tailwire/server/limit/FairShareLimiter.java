package io.tailwire.server.limit;

import static io.tailwire.io.Units.NANOS_PER_SECOND;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

import io.tailwire.engine.WindowLimiter;

/**
 * Applies the operator's {@link IngestThrottle} to the engine's windows and shares the global rate
 * fairly (max-min) among the agents that are sending. The throttle alone grants its whole bucket to
 * whichever agent is acknowledged first; here each agent also has a share bucket, refilled at the
 * "water level" L: the rate such that sum over active agents of min(demand, L) = global rate, where
 * demand is what the agent sent in the last period plus a quarter (so it can grow), or the whole rate if
 * it was refused a window in that period (it wants more than it gets). Agents that want less than L
 * leave the rest to the others; greedy agents each get L. The global bucket still caps the total. Engine thread only (like the throttle's bucket side).
 */
public final class FairShareLimiter implements WindowLimiter {
    /** How often the level is recomputed from measured rates. */
    static final long PERIOD_NS = 100_000_000L;
    /** An agent that sent nothing for this long no longer counts (and is forgotten). */
    static final long ACTIVE_NS = 1_000_000_000L;

    private final IngestThrottle throttle;
    private final HashMap<String, Share> shares = new HashMap<>();
    private long nextPeriodNs;
    private boolean started;
    private long periodStartNs;
    /** Bytes per second each active agent may take; Long.MAX_VALUE while there is no global rate. */
    private long level = Long.MAX_VALUE;

    public FairShareLimiter(IngestThrottle throttle) {
        this.throttle = throttle;
    }

    private static final class Share {
        long tokens;
        long lastRefillNs;
        long remainder;
        long sentThisPeriod;
        long lastActiveNs;
        /** Refused a window this period: its demand is more than it got. */
        boolean refused;
    }

    /** The current per-agent level in bytes per second (Long.MAX_VALUE: no fair-share cap). */
    public long level() {
        return level;
    }

    @Override
    public void consume(String agentId, long bytes, long nowNs) {
        throttle.consume(agentId, bytes, nowNs);
        Share s = share(agentId, nowNs);
        s.sentThisPeriod += bytes;
        s.lastActiveNs = nowNs;
        refill(s, nowNs);
        s.tokens = Math.max(-(1L << 40), s.tokens - bytes);
    }

    @Override
    public long window(String agentId, long window, long minOpen, long nowNs) {
        long w = throttle.window(agentId, window, minOpen, nowNs);
        if (throttle.global() == IngestThrottle.UNLIMITED) {
            return w; // nothing to share
        }
        recompute(nowNs);
        Share s = share(agentId, nowNs);
        if (w == 0) {
            // Asked and refused: it wants more than it gets, whoever took the tokens.
            s.refused = window > 0;
            s.lastActiveNs = nowNs;
            return 0;
        }
        if (level == Long.MAX_VALUE) {
            return w;
        }
        long t = refill(s, nowNs);
        long min = Math.max(1, Math.min(minOpen, cap()));
        if (t < min) {
            s.refused = true;
            s.lastActiveNs = nowNs;
            return 0;
        }
        return Math.min(w, t);
    }

    @Override
    public long whenAllowed(String agentId, long bytes, long nowNs) {
        long t = throttle.whenAllowed(agentId, bytes, nowNs);
        if (t == Long.MAX_VALUE || level == Long.MAX_VALUE) {
            return t;
        }
        Share s = share(agentId, nowNs);
        long need = Math.max(1, Math.min(bytes, cap())) - refill(s, nowNs);
        if (need <= 0) {
            return t;
        }
        long wait = level <= 0 ? Long.MAX_VALUE : (long) Math.ceil(need * (double) NANOS_PER_SECOND / level);
        // Also wake at the next recompute: the level may rise when others stop.
        long byShare = wait == Long.MAX_VALUE ? Long.MAX_VALUE : nowNs + wait;
        return Math.max(t, Math.min(byShare, started ? Math.max(nowNs, nextPeriodNs) : nowNs));
    }

    private long cap() {
        return IngestThrottle.burst(level);
    }

    private Share share(String agentId, long nowNs) {
        Share s = shares.get(agentId);
        if (s == null) {
            s = new Share();
            s.lastRefillNs = nowNs;
            s.lastActiveNs = nowNs;
            s.tokens = level == Long.MAX_VALUE ? 0 : Math.min(cap(), level / 10); // a newcomer starts with 100 ms
            shares.put(agentId, s);
        }
        return s;
    }

    private long refill(Share s, long nowNs) {
        long elapsed = nowNs - s.lastRefillNs;
        if (elapsed <= 0 || level == Long.MAX_VALUE) {
            return s.tokens;
        }
        s.lastRefillNs = nowNs;
        long cap = cap();
        if (s.tokens >= cap) {
            s.remainder = 0;
            return s.tokens;
        }
        if (elapsed >= NANOS_PER_SECOND) {
            s.tokens = cap; // a second of any level >= the 10 ms burst
            s.remainder = 0;
            return s.tokens;
        }
        long num = level * elapsed + s.remainder; // level <= 8e9, elapsed < 1e9: below 2^63
        s.tokens = Math.min(cap, s.tokens + num / NANOS_PER_SECOND);
        s.remainder = num % NANOS_PER_SECOND;
        return s.tokens;
    }

    /** Every period: forget idle agents and compute the water level from what each one sent. */
    private void recompute(long nowNs) {
        if (started && nowNs - nextPeriodNs < 0) {
            return;
        }
        long elapsed = Math.max(1, nowNs - periodStartNs);
        boolean first = !started;
        started = true;
        periodStartNs = nowNs;
        nextPeriodNs = nowNs + PERIOD_NS;
        long rate = throttle.global();
        ArrayList<Long> demands = new ArrayList<>();
        for (Iterator<Map.Entry<String, Share>> it = shares.entrySet().iterator(); it.hasNext(); ) {
            Share s = it.next().getValue();
            if (nowNs - s.lastActiveNs >= ACTIVE_NS) {
                it.remove();
                continue;
            }
            refill(s, nowNs); // settle tokens at the old level before it changes
            long measured = (long) (s.sentThisPeriod * (double) NANOS_PER_SECOND / elapsed);
            // A refused agent wants more than it got: count it as greedy. Otherwise it may grow by a
            // quarter per period. No demand above the global rate, so the sums below cannot overflow.
            long demand = first || s.refused ? rate : Math.max(measured + measured / 4, IngestThrottle.MIN_BURST);
            demands.add(Math.min(Math.max(rate, 1), demand));
            s.sentThisPeriod = 0;
            s.refused = false;
        }
        if (rate == IngestThrottle.UNLIMITED || demands.size() <= 1) {
            level = rate == IngestThrottle.UNLIMITED ? Long.MAX_VALUE : Math.max(rate, 1);
            return;
        }
        level = waterLevel(rate, demands);
    }

    /** The largest L with sum(min(d, L)) <= rate (all of rate when every demand fits). */
    static long waterLevel(long rate, java.util.List<Long> demands) {
        ArrayList<Long> d = new ArrayList<>(demands);
        d.sort(null);
        long remaining = rate;
        int k = d.size();
        for (long x : d) {
            if (x * (long) k <= remaining) {
                remaining -= x;
                k--;
            } else {
                return Math.max(1, remaining / k);
            }
        }
        return Math.max(1, rate); // everyone is satisfied: no agent needs a cap below the global rate
    }
}
