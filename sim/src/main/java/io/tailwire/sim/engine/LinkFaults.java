package io.tailwire.sim.engine;

import io.tailwire.fault.FaultModel;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The faults of one direction of the agent-server path, as plain values so a scenario prints and parses
 * back exactly (see {@link #spec()} / {@link #parse(String)}). Times are microseconds.
 *
 * @param loss          Bernoulli loss per datagram
 * @param dup           probability a datagram is delivered twice
 * @param reorder       probability a copy gets an extra delay uniform in [1, reorderMaxUs]
 * @param reorderMaxUs  largest reordering delay
 * @param delayUs       one-way propagation delay
 * @param jitterUs      extra delay uniform in [0, jitterUs]
 * @param corrupt       probability a copy arrives with 1..3 flipped bits (CRC32C must drop it)
 * @param geGoodToBad   Gilbert-Elliott: probability per datagram of entering the bad state (0 = no GE)
 * @param geBadToGood   Gilbert-Elliott: probability per datagram of leaving it (mean burst 1/this)
 * @param geLossBad     loss probability while in the bad state
 * @param bandwidth     bottleneck bytes per second, 0 = unlimited
 * @param queueBytes    bottleneck queue limit (tail drop); ignored when bandwidth is 0
 */
public record LinkFaults(double loss, double dup, double reorder, long reorderMaxUs, long delayUs, long jitterUs,
                         double corrupt, double geGoodToBad, double geBadToGood, double geLossBad, long bandwidth,
                         long queueBytes) {
    public LinkFaults {
        checkP("loss", loss);
        checkP("dup", dup);
        checkP("reorder", reorder);
        checkP("corrupt", corrupt);
        checkP("ge-gb", geGoodToBad);
        checkP("ge-bg", geBadToGood);
        checkP("ge-loss", geLossBad);
        if (reorderMaxUs < 0 || delayUs < 0 || jitterUs < 0 || bandwidth < 0 || queueBytes < 0) {
            throw new IllegalArgumentException("negative time, bandwidth or queue");
        }
        if (geGoodToBad > 0 && geBadToGood == 0) {
            throw new IllegalArgumentException("ge-bg must be > 0 when ge-gb > 0 (a burst must end)");
        }
    }

    /** 100 us each way, nothing else. */
    public static LinkFaults clean() {
        return new LinkFaults(0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0);
    }

    public boolean gilbertElliott() {
        return geGoodToBad > 0;
    }

    /** Long-run fraction of datagrams lost by Bernoulli, Gilbert-Elliott loss or corruption together. */
    public double effectiveLoss() {
        double ge = 0;
        if (gilbertElliott()) {
            ge = geGoodToBad / (geGoodToBad + geBadToGood) * geLossBad;
        }
        return 1 - (1 - loss) * (1 - ge) * (1 - corrupt);
    }

    /** Mean length of a Gilbert-Elliott bad period in datagrams, 0 without GE. */
    public double meanBurst() {
        return gilbertElliott() ? 1 / geBadToGood : 0;
    }

    /** Longest a delivered copy can take (propagation, jitter, reordering, a full bottleneck queue). */
    public long maxOneWayNanos(int datagram) {
        long ns = (delayUs + jitterUs + reorderMaxUs) * 1000L;
        if (bandwidth > 0) {
            ns += (Math.min(queueBytes, 1L << 40) + datagram) * 1_000_000_000L / bandwidth;
        }
        return ns;
    }

    public FaultModel toFaultModel() {
        FaultModel m = FaultModel.perfect().loss(loss).duplicate(dup).reorder(reorder, reorderMaxUs * 1000L)
            .delay(delayUs * 1000L, jitterUs * 1000L).corrupt(corrupt, 3);
        if (gilbertElliott()) {
            m.gilbertElliott(geGoodToBad, geBadToGood, 0, geLossBad);
        }
        if (bandwidth > 0) {
            m.bottleneck(bandwidth, queueBytes);
        }
        return m;
    }

    /** key=value list, e.g. {@code loss=0.3,dup=0.2,reorder=0.5,reorder-max-us=20000,delay-us=500}; zeros left out. */
    public String spec() {
        StringBuilder sb = new StringBuilder();
        add(sb, "loss", loss);
        add(sb, "dup", dup);
        add(sb, "reorder", reorder);
        add(sb, "reorder-max-us", reorderMaxUs);
        add(sb, "delay-us", delayUs);
        add(sb, "jitter-us", jitterUs);
        add(sb, "corrupt", corrupt);
        add(sb, "ge-gb", geGoodToBad);
        add(sb, "ge-bg", geBadToGood);
        add(sb, "ge-loss", geLossBad);
        add(sb, "bw", bandwidth);
        add(sb, "queue", queueBytes);
        return sb.length() == 0 ? "none" : sb.toString();
    }

    /** Inverse of {@link #spec()}: unnamed keys are 0; "none" is a perfect zero-delay link. */
    public static LinkFaults parse(String spec) {
        Map<String, String> kv = new LinkedHashMap<>();
        String s = spec.trim();
        if (!s.isEmpty() && !s.equals("none")) {
            for (String part : s.split(",")) {
                int eq = part.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("expected key=value, got '" + part + "'");
                }
                kv.put(part.substring(0, eq).trim().toLowerCase(Locale.ROOT), part.substring(eq + 1).trim());
            }
        }
        LinkFaults f = new LinkFaults(d(kv, "loss"), d(kv, "dup"), d(kv, "reorder"), l(kv, "reorder-max-us"),
            l(kv, "delay-us"), l(kv, "jitter-us"), d(kv, "corrupt"), d(kv, "ge-gb"), d(kv, "ge-bg"),
            d(kv, "ge-loss"), l(kv, "bw"), l(kv, "queue"));
        if (!kv.isEmpty()) {
            throw new IllegalArgumentException("unknown fault key(s) " + kv.keySet());
        }
        return f;
    }

    private static double d(Map<String, String> kv, String k) {
        String v = kv.remove(k);
        return v == null ? 0 : Double.parseDouble(v);
    }

    private static long l(Map<String, String> kv, String k) {
        String v = kv.remove(k);
        return v == null ? 0 : Long.parseLong(v);
    }

    private static void add(StringBuilder sb, String k, double v) {
        if (v != 0) {
            sb.append(sb.length() == 0 ? "" : ",").append(k).append('=').append(v);
        }
    }

    private static void add(StringBuilder sb, String k, long v) {
        if (v != 0) {
            sb.append(sb.length() == 0 ? "" : ",").append(k).append('=').append(v);
        }
    }

    private static void checkP(String name, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(name + " must be in [0,1]: " + p);
        }
    }
}
