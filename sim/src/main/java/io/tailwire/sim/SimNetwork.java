package io.tailwire.sim;

import io.tailwire.fault.FaultModel;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Simulated datagram network. Nodes are addresses with a {@link Receiver}; each ordered pair of
 * addresses has its own {@link Link} (created on first use with a copy of the default fault model) and
 * its own random stream derived from the link's name, so traffic on one link never perturbs another.
 */
public final class SimNetwork {
    private final EventQueue queue;
    private final SimClock clock;
    private final SimRandom random;
    private final Trace trace;
    private final Map<InetSocketAddress, Receiver> receivers = new HashMap<>();
    // Creation order, so reports over links() read the same in every run.
    private final Map<List<InetSocketAddress>, Link> links = new LinkedHashMap<>();
    private final Map<InetSocketAddress, List<long[]>> isolations = new HashMap<>();
    private FaultModel defaultModel = FaultModel.perfect();
    private boolean tracePackets = true;

    /** trace may be null (no tracing). */
    public SimNetwork(EventQueue queue, SimClock clock, SimRandom random, Trace trace) {
        this.queue = queue;
        this.clock = clock;
        this.random = random;
        this.trace = trace;
    }

    /** Registers (or replaces, e.g. after a restart) whoever listens at addr. */
    public void register(InetSocketAddress addr, Receiver receiver) {
        receivers.put(addr, receiver);
    }

    /** Nobody listens at addr any more (process killed): datagrams arriving there are counted unroutable. */
    public void unregister(InetSocketAddress addr) {
        receivers.remove(addr);
    }

    /** Fault model copied into links created from now on. */
    public void setDefaultFaultModel(FaultModel m) {
        this.defaultModel = m;
    }

    /** Whether every send/drop/delivery goes into the trace (on by default; off for very long runs). */
    public void setTracePackets(boolean on) {
        this.tracePackets = on;
    }

    /** The link from -> to, created on first use. */
    public Link link(InetSocketAddress from, InetSocketAddress to) {
        return links.computeIfAbsent(List.of(from, to),
            k -> new Link(this, from, to, defaultModel.copy(), random.child("link " + name(from) + "->" + name(to))));
    }

    /** Sets the fault model of both directions between a and b (each direction gets its own copy). */
    public void setFaultModel(InetSocketAddress a, InetSocketAddress b, FaultModel m) {
        link(a, b).setFaultModel(m.copy());
        link(b, a).setFaultModel(m.copy());
    }

    /** Cuts both directions between a and b during [startNanos, endNanos). */
    public void partition(InetSocketAddress a, InetSocketAddress b, long startNanos, long endNanos) {
        link(a, b).partition(startNanos, endNanos);
        link(b, a).partition(startNanos, endNanos);
    }

    /** Cuts every link to and from addr during [startNanos, endNanos), links not yet created included. */
    public void isolate(InetSocketAddress addr, long startNanos, long endNanos) {
        if (endNanos < startNanos) {
            throw new IllegalArgumentException("window ends before it starts");
        }
        isolations.computeIfAbsent(addr, k -> new ArrayList<>()).add(new long[] {startNanos, endNanos});
    }

    boolean isIsolated(InetSocketAddress addr, long t) {
        List<long[]> ws = isolations.get(addr);
        if (ws == null) {
            return false;
        }
        for (long[] w : ws) {
            if (t >= w[0] && t < w[1]) {
                return true;
            }
        }
        return false;
    }

    /** Sends a datagram now; data is copied, so the caller may reuse its buffer. */
    public void send(InetSocketAddress from, InetSocketAddress to, byte[] data) {
        long now = clock.nanoTime();
        if (tracePackets && trace != null) {
            trace.record(now, name(from), "send ->" + name(to) + " len=" + data.length);
        }
        link(from, to).send(data, now);
    }

    /** Sends length bytes of data starting at offset. */
    public void send(InetSocketAddress from, InetSocketAddress to, byte[] data, int offset, int length) {
        byte[] copy = new byte[length];
        System.arraycopy(data, offset, copy, 0, length);
        send(from, to, copy);
    }

    /** All links created so far (for reporting). */
    public List<Link> links() {
        return new ArrayList<>(links.values());
    }

    void scheduleArrival(Link link, byte[] data, long sentAt, long arrival, boolean duplicate, boolean reordered,
        boolean corrupted) {
        queue.schedule(arrival, () -> arrive(link, data, sentAt, duplicate, reordered, corrupted));
    }

    private void arrive(Link link, byte[] data, long sentAt, boolean duplicate, boolean reordered,
        boolean corrupted) {
        long now = clock.nanoTime();
        if (link.isPartitioned(now) || isIsolated(link.from(), now) || isIsolated(link.to(), now)) {
            link.countPartitionedArrival();
            traceDrop(now, link, "partition-in-flight", data.length);
            return;
        }
        Receiver r = receivers.get(link.to());
        link.countArrival(data, corrupted, r != null);
        if (tracePackets && trace != null) {
            trace.record(now, name(link.to()), (r == null ? "unroutable <-" : "recv <-") + name(link.from())
                + " len=" + data.length + " sentAt=" + sentAt + (duplicate ? " dup" : "")
                + (reordered ? " reordered" : "") + (corrupted ? " corrupted" : ""));
        }
        if (r != null) {
            r.onDatagram(link.from(), data, now);
        }
    }

    void traceDrop(long now, Link link, String why, int length) {
        if (tracePackets && trace != null) {
            trace.record(now, name(link.from()), "drop ->" + name(link.to()) + " len=" + length + " " + why);
        }
    }

    /** host:port without any name lookup. */
    public static String name(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }
}
