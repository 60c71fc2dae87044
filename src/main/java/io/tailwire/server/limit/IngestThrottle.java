package io.tailwire.server.limit;

import static io.tailwire.io.Units.NANOS_PER_SECOND;

import io.tailwire.config.Configuration;
import io.tailwire.wire.Wire;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Operator-set ingest rate limits: one server-wide token bucket and optional per-agent buckets, in
 * payload bytes per second. Sans-IO: time comes in as {@code nowNs}.
 *
 * <p>The engine applies the limit through flow control (wire-spec.md 7.1): it caps each connection's
 * advertised window by {@link #window} and reports the payload it accepts with {@link #consume}. The
 * window can only be as large as the tokens in the bucket, so the bytes the agents may send converge
 * to the rate, smoothly, with no "sleep N seconds" hint. A rate of 0 advertises window 0; agents then
 * probe with PING (7.2) and resume when an ACK reopens the window.
 *
 * <p>Threads: settings are written by the admin side ({@code set*}/{@code clear*}, serialised among
 * themselves) and published through volatile fields; the bucket state ({@link #allowance},
 * {@link #consume}, {@link #window}, {@link #whenAllowed}) belongs to the one engine thread and is
 * never locked, so the admin side can never stall the engine.
 */
public final class IngestThrottle {
    /** Rate setting: no limit. */
    public static final long UNLIMITED = -1;
    /** Rate setting: accept nothing (window 0). */
    public static final long PAUSED = 0;
    /**
     * Largest settable rate (8 GB/s, far beyond one UDP server): keeps {@code rate × nanoseconds}
     * within a long. Use {@link #UNLIMITED} for no limit.
     */
    public static final long MAX_RATE = 8_000_000_000L;
    /**
     * Smallest bucket: a burst below one max-size datagram's payload could never open a useful
     * window, and 64 KiB lets a slow rate still move whole datagrams.
     */
    public static final long MIN_BURST = 64 * 1024;
    /** The bucket holds at most this much time's worth of the rate (10 ms): short bursts, smooth rate. */
    public static final long BURST_NS = 10_000_000L;

    /** Debt (bytes accepted beyond the tokens, e.g. already in flight when the rate fell) is capped. */
    private static final long MAX_DEBT = 1L << 40;

    private final int maxAgents;
    private final Bucket global = new Bucket(UNLIMITED);
    private final ConcurrentHashMap<String, Bucket> agents = new ConcurrentHashMap<>();
    /** False while nothing is limited: the engine's calls then cost one volatile read. */
    private volatile boolean anyLimit;

    public IngestThrottle() {
        this(Configuration.THROTTLE_MAX_AGENTS);
    }

    public IngestThrottle(int maxAgents) {
        if (maxAgents < 0) {
            throw new IllegalArgumentException("maxAgents must be >= 0");
        }
        this.maxAgents = maxAgents;
    }

    /** Bucket size for a rate: max(64 KiB, 10 ms of the rate). */
    public static long burst(long bytesPerSecond) {
        return Math.max(MIN_BURST, bytesPerSecond / (NANOS_PER_SECOND / BURST_NS));
    }

    // ------------------------------------------------------------------ settings (admin side)

    /**
     * Sets the server-wide rate: {@link #UNLIMITED}, {@link #PAUSED} or 1..{@link #MAX_RATE} bytes per
     * second. Every new setting starts from an empty bucket: no savings or debt carry over.
     */
    public synchronized void setGlobal(long bytesPerSecond) {
        checkRate(bytesPerSecond);
        global.set(bytesPerSecond);
        updateAnyLimit();
    }

    /**
     * Sets an agent's own rate; the effective rate is min(global, agent), so an agent setting can only
     * lower what the global setting allows. {@link #UNLIMITED} removes the agent's setting.
     *
     * @throws IllegalArgumentException bad agent id or rate
     * @throws IllegalStateException    already {@code maxAgents} agents have their own setting
     */
    public synchronized void setAgent(String agentId, long bytesPerSecond) {
        checkAgentId(agentId);
        checkRate(bytesPerSecond);
        if (bytesPerSecond == UNLIMITED) {
            clearAgent(agentId);
            return;
        }
        Bucket b = agents.get(agentId);
        if (b != null) {
            b.set(bytesPerSecond);
        } else {
            if (agents.size() >= maxAgents) {
                throw new IllegalStateException("too many per-agent limits (at most " + maxAgents
                        + "); clear some with bytes_per_second=-1 first");
            }
            agents.put(agentId, new Bucket(bytesPerSecond));
        }
        updateAnyLimit();
    }

    /** Removes an agent's own setting; returns whether it had one. */
    public synchronized boolean clearAgent(String agentId) {
        boolean had = agentId != null && agents.remove(agentId) != null;
        updateAnyLimit();
        return had;
    }

    /** The server-wide setting ({@link #UNLIMITED}, {@link #PAUSED} or bytes per second). */
    public long global() {
        return global.rate;
    }

    /** The agent's own setting, {@link #UNLIMITED} when it has none. */
    public long agent(String agentId) {
        Bucket b = agentId == null ? null : agents.get(agentId);
        return b == null ? UNLIMITED : b.rate;
    }

    /** min(global, agent), treating {@link #UNLIMITED} as infinity. */
    public long effective(String agentId) {
        return minRate(global(), agent(agentId));
    }

    /** Number of agents with their own setting. */
    public int agentLimits() {
        return agents.size();
    }

    /** A consistent copy of the settings, agents sorted by id. */
    public synchronized Snapshot snapshot() {
        TreeMap<String, Long> m = new TreeMap<>();
        agents.forEach((id, b) -> m.put(id, b.rate));
        return new Snapshot(global.rate, Collections.unmodifiableSortedMap(m));
    }

    /** The settings at one moment. Rates use {@link #UNLIMITED}/{@link #PAUSED}. */
    public record Snapshot(long globalBytesPerSecond, Map<String, Long> agents) {
        public long effective(String agentId) {
            Long a = agents.get(agentId);
            return minRate(globalBytesPerSecond, a == null ? UNLIMITED : a);
        }
    }

    /** Rejects a rate outside -1..MAX_RATE with a message fit for an operator. */
    public static void checkRate(long bytesPerSecond) {
        if (bytesPerSecond < UNLIMITED || bytesPerSecond > MAX_RATE) {
            throw new IllegalArgumentException("bytes_per_second must be -1 (unlimited), 0 (pause) or 1.."
                    + MAX_RATE + ", not " + bytesPerSecond);
        }
    }

    /** Agent ids as in wire-spec.md 3: [A-Za-z0-9._-]{1,64}, not "." or "..". */
    public static void checkAgentId(String agentId) {
        if (!Wire.isValidAgentId(agentId)) {
            throw new IllegalArgumentException("agent must match " + Wire.AGENT_ID_RULE);
        }
    }

    static long minRate(long a, long b) {
        if (a == UNLIMITED) {
            return b;
        }
        if (b == UNLIMITED) {
            return a;
        }
        return Math.min(a, b);
    }

    private void updateAnyLimit() {
        anyLimit = global.rate != UNLIMITED || !agents.isEmpty();
    }

    // ------------------------------------------------------------------ engine side (one thread)

    /**
     * Payload bytes this agent may be granted now: min of the global and the agent's bucket, never
     * negative; {@link Long#MAX_VALUE} when neither limits it.
     */
    public long allowance(String agentId, long nowNs) {
        if (!anyLimit) {
            return Long.MAX_VALUE;
        }
        long g = global.refill(nowNs);
        Bucket b = agentId == null ? null : agents.get(agentId);
        long a = b == null ? Long.MAX_VALUE : b.refill(nowNs);
        return Math.max(0, Math.min(g, a));
    }

    /**
     * Records payload bytes accepted from this agent (new DATA bytes, not duplicates). May push the
     * buckets into debt (bytes already in flight when the rate fell), which later allowances repay.
     */
    public void consume(String agentId, long bytes, long nowNs) {
        if (bytes <= 0 || !anyLimit) {
            return;
        }
        global.take(bytes, nowNs);
        Bucket b = agentId == null ? null : agents.get(agentId);
        if (b != null) {
            b.take(bytes, nowNs);
        }
    }

    /**
     * The window to advertise: {@code min(window, allowance)}, but 0 while the allowance is below
     * {@code minOpen} (capped at {@link #MIN_BURST}, so it is always reachable) - reopening by a few
     * bytes would only make the agent send tiny datagrams. Use the connection's max payload size as
     * {@code minOpen}. Returns {@code window} unchanged when nothing limits the agent.
     */
    public long window(String agentId, long window, long minOpen, long nowNs) {
        long a = allowance(agentId, nowNs);
        if (a == Long.MAX_VALUE) {
            return window;
        }
        long min = Math.max(1, Math.min(minOpen, MIN_BURST));
        return a < min ? 0 : Math.min(window, a);
    }

    /**
     * When (absolute ns) the allowance will reach {@code bytes} (capped at {@link #MIN_BURST}) if
     * nothing is consumed meanwhile: {@code nowNs} if it already has, {@link Long#MAX_VALUE} while
     * paused. The engine arms a timer for it after advertising window 0, to send the unsolicited ACK
     * that reopens the flow (wire-spec.md 7.2) instead of waiting for the agent's next probe.
     */
    public long whenAllowed(String agentId, long bytes, long nowNs) {
        if (!anyLimit) {
            return nowNs;
        }
        long need = Math.max(1, Math.min(bytes, MIN_BURST));
        long t = global.when(need, nowNs);
        Bucket b = agentId == null ? null : agents.get(agentId);
        if (b != null) {
            t = Math.max(t, b.when(need, nowNs));
        }
        return t;
    }

    /**
     * A token bucket. {@code rate} and {@code version} are written by the admin side; everything else
     * only by the engine thread, which notices a new setting by comparing versions.
     */
    private static final class Bucket {
        volatile long rate;
        /** Bumped after {@code rate} is written, so a reader that sees the new version sees the new rate. */
        private volatile int version;

        private int appliedVersion = -1;
        private long appliedRate;
        private long tokens;
        /** Fraction of a token, in units of 1e-9 byte, so slow rates do not lose bytes to rounding. */
        private long remainder;
        private long lastNs;

        Bucket(long rate) {
            this.rate = rate;
        }

        /** Admin side, under the throttle's lock. */
        void set(long r) {
            rate = r;
            version++;
        }

        /** Brings the bucket up to {@code nowNs}; returns its tokens, {@link Long#MAX_VALUE} if unlimited. */
        long refill(long nowNs) {
            int v = version;
            if (v != appliedVersion) {
                // A new setting takes effect from now, empty: neither the old one's savings nor its
                // debt carry over, so the agents see the new rate at once and never a burst.
                appliedVersion = v;
                appliedRate = rate;
                tokens = 0;
                remainder = 0;
                lastNs = nowNs;
            }
            long r = appliedRate;
            if (r == UNLIMITED) {
                return Long.MAX_VALUE;
            }
            long elapsed = nowNs - lastNs;
            if (elapsed <= 0) {
                return tokens; // same instant, or the clock went back: add nothing
            }
            lastNs = nowNs;
            if (r == 0) {
                return tokens;
            }
            long cap = burst(r);
            if (tokens >= cap) {
                remainder = 0;
                return tokens;
            }
            long whole = elapsed / NANOS_PER_SECOND;
            if (whole > 0) {
                if (whole > (cap - tokens) / r) {
                    tokens = cap;
                    remainder = 0;
                    return tokens;
                }
                tokens += r * whole;
            }
            // r < 2^33 and the fraction < 2^30, so the product stays below 2^63.
            long num = r * (elapsed % NANOS_PER_SECOND) + remainder;
            tokens += num / NANOS_PER_SECOND;
            remainder = num % NANOS_PER_SECOND;
            if (tokens >= cap) {
                tokens = cap;
                remainder = 0;
            }
            return tokens;
        }

        void take(long bytes, long nowNs) {
            if (refill(nowNs) == Long.MAX_VALUE) {
                return;
            }
            tokens = Math.max(-MAX_DEBT, tokens - bytes);
        }

        long when(long need, long nowNs) {
            long have = refill(nowNs);
            if (have >= need) {
                return nowNs;
            }
            long r = appliedRate;
            if (r == 0) {
                return Long.MAX_VALUE;
            }
            // Nanoseconds until r·t + remainder ≥ (need − tokens)·1e9, split to stay within a long.
            long deficit = need - tokens;
            long wholeSeconds = deficit / r;
            long part = deficit % r;
            long fracNs = ceilDiv(part * NANOS_PER_SECOND - remainder, r);
            if (wholeSeconds > (Long.MAX_VALUE - nowNs - NANOS_PER_SECOND) / NANOS_PER_SECOND) {
                return Long.MAX_VALUE;
            }
            // Exact: fracNs may be negative only when wholeSeconds > 0, and the sum is > 0.
            return nowNs + wholeSeconds * NANOS_PER_SECOND + fracNs;
        }

        private static long ceilDiv(long a, long b) {
            return -Math.floorDiv(-a, b);
        }
    }
}
