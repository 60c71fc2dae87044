package io.tailwire.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The driver: one thread, virtual time, one seed. Each step jumps the clock to the earliest of the next
 * queued event and the earliest node deadline and runs that one thing. Ties go to queued events (in
 * scheduling order), then to nodes in the order they were added. Every run is bounded by a virtual time
 * limit and a step limit so a livelock in the code under test ends the run instead of hanging it.
 */
public final class Simulation {
    /** Virtual time at which every simulation starts: not 0, so code treating 0 as "unset" shows up. */
    public static final long START_NANOS = 1_000_000_000_000L;

    public enum Outcome {
        /** Nothing left to do: no events, no deadlines. */
        IDLE,
        /** The next thing to do lies beyond the time limit; the clock stands at the limit. */
        TIME_LIMIT,
        STEP_LIMIT,
        /** The stop condition became true (or stop() was called). */
        CONDITION
    }

    public record Result(Outcome outcome, long steps, long timeNanos) {
    }

    private final long seed;
    private final SimClock clock = new SimClock(START_NANOS);
    private final EventQueue events = new EventQueue();
    private final SimRandom random;
    private final Trace trace;
    private final SimNetwork network;
    private final List<SimNode> nodes = new ArrayList<>();
    private boolean stopRequested;
    private long totalSteps;

    public Simulation(long seed) {
        this(seed, 1024);
    }

    public Simulation(long seed, int traceRing) {
        this.seed = seed;
        this.random = new SimRandom(seed);
        this.trace = new Trace(traceRing);
        this.network = new SimNetwork(events, clock, random.child("network"), trace);
    }

    public long seed() {
        return seed;
    }

    public SimClock clock() {
        return clock;
    }

    public long now() {
        return clock.nanoTime();
    }

    public EventQueue events() {
        return events;
    }

    /** Root random stream; components should take {@code random().child(name)}. */
    public SimRandom random() {
        return random;
    }

    public Trace trace() {
        return trace;
    }

    public SimNetwork network() {
        return network;
    }

    /** Adds a node and registers it as the receiver at its address. */
    public void addNode(SimNode node) {
        nodes.add(node);
        network.register(node.address(), node);
        trace.record(now(), node.name(), "node up");
    }

    /** Removes a node (kill -9): no more timers, datagrams to its address become unroutable. */
    public void removeNode(SimNode node) {
        nodes.remove(node);
        if (node.address() != null) {
            network.unregister(node.address());
        }
        trace.record(now(), node.name(), "node down");
    }

    public List<SimNode> nodes() {
        return List.copyOf(nodes);
    }

    /** Runs action at absolute virtual time t (now if t is in the past). */
    public EventQueue.Event at(long t, Runnable action) {
        return events.schedule(Math.max(t, now()), action);
    }

    public EventQueue.Event after(long delayNanos, Runnable action) {
        return at(now() + delayNanos, action);
    }

    /** Makes the running loop return CONDITION after the current step. */
    public void stop() {
        stopRequested = true;
    }

    /** Records a line in the trace at the current time. */
    public void log(String node, String event) {
        trace.record(now(), node, event);
    }

    /** Runs for at most durationNanos of virtual time from now and at most maxSteps steps. */
    public Result runFor(long durationNanos, long maxSteps) {
        return runUntil(() -> false, now() + durationNanos, maxSteps);
    }

    /**
     * Runs until stopWhen is true (checked before the first and after every step), there is nothing
     * left to do, the next thing lies beyond timeLimitNanos (absolute), or maxSteps steps were taken.
     */
    public Result runUntil(BooleanSupplier stopWhen, long timeLimitNanos, long maxSteps) {
        stopRequested = false;
        long steps = 0;
        while (true) {
            if (stopRequested || stopWhen.getAsBoolean()) {
                return result(Outcome.CONDITION, steps);
            }
            if (steps >= maxSteps) {
                trace.record(now(), "sim", "step limit " + maxSteps + " reached");
                return result(Outcome.STEP_LIMIT, steps);
            }
            long eventTime = events.peekTime();
            SimNode due = null;
            long nodeTime = Long.MAX_VALUE;
            for (SimNode n : nodes) {
                long d = n.nextDeadline();
                if (d < nodeTime) {
                    nodeTime = d;
                    due = n;
                }
            }
            long next = Math.min(eventTime, nodeTime);
            if (next == Long.MAX_VALUE) {
                return result(Outcome.IDLE, steps);
            }
            if (next > timeLimitNanos) {
                if (timeLimitNanos > now()) {
                    clock.advanceTo(timeLimitNanos);
                }
                return result(Outcome.TIME_LIMIT, steps);
            }
            // A deadline already in the past runs now: time never goes backwards.
            clock.advanceTo(Math.max(next, now()));
            steps++;
            totalSteps++;
            if (eventTime <= nodeTime) {
                EventQueue.run(events.poll());
            } else {
                due.onTimer(now());
            }
        }
    }

    /** Steps taken over all runs of this simulation. */
    public long totalSteps() {
        return totalSteps;
    }

    private Result result(Outcome o, long steps) {
        return new Result(o, steps, now());
    }
}
