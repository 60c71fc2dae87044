package io.tailwire.sim.cli;

import static io.tailwire.io.Units.NANOS_PER_SECOND;

import io.tailwire.sim.system.RunResult;
import io.tailwire.sim.system.Scenario;
import io.tailwire.sim.system.SystemSim;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;

/**
 * bin/udp-sim: whole-system deterministic simulation runs (see sim/SYSTEM-SIM.md). {@code bin/udp-sim engine
 * ...} hands the rest of the arguments to the engine-level simulator.
 */
public final class SimMain {
    private static final String USAGE = String.join("\n",
        "usage: bin/udp-sim --seed N [--runs K] [--threads T] [options]",
        "       bin/udp-sim engine ARGS...            (engine-level fault properties)",
        "Every option not given is drawn from the seed (Scenario.random); given ones override it.",
        "  --agents A            agents, each on its own host (1..64)",
        "  --files F             log files per agent (1..64)",
        "  --duration S          virtual seconds of faults and writing (then: faults stop, must deliver)",
        "  --rate B              bytes per second written to each file",
        "  --loss P --dup P --reorder P --corrupt P   per-datagram probabilities",
        "  --bursts true|false   Gilbert-Elliott burst loss",
        "  --bottleneck true|false  finite-queue bottleneck on every link",
        "  --partitions N        partitions that heal (server isolated or one agent cut off)",
        "  --crashes K,P,S,Q     agent kill -9, agent host power loss, server kill -9, server power loss",
        "  --pauses N            process freezes (SIGSTOP..SIGCONT: a jump of its monotonic clock)",
        "  --rotations R,C,T,D   rename+create, copytruncate, truncation, deletion while open",
        "  --disk-full N         server disk fills up, then has space again",
        "  --faults none         no faults at all (a calm baseline)",
        "  --verbose             print the whole event trace of each run (use with one run)");

    private SimMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("engine")) {
            System.exit(delegateToEngine(Arrays.copyOfRange(args, 1, args.length)));
        }
        int code;
        try {
            code = run(args);
        } catch (IllegalArgumentException e) {
            System.err.println("udp-sim: " + e.getMessage());
            System.err.println(USAGE);
            code = 2;
        }
        System.exit(code);
    }

    private static int delegateToEngine(String[] rest) throws Exception {
        Class<?> c;
        try {
            c = Class.forName("io.tailwire.sim.engine.EngineSimMain");
        } catch (ClassNotFoundException e) {
            System.err.println("udp-sim: the engine-level simulator (io.tailwire.sim.engine.EngineSimMain) is not"
                + " part of this build");
            return 2;
        }
        Method m = c.getMethod("main", String[].class);
        try {
            m.invoke(null, (Object) rest);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
        return 0;
    }

    static int run(String[] args) throws Exception {
        Long seed = null;
        int runs = 1;
        int threads = 2;
        boolean verbose = false;
        // Overrides applied on top of the seed's random scenario, in the order given.
        List<UnaryOperator<Scenario>> overrides = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String k = args[i];
            if (k.equals("--help") || k.equals("-h")) {
                System.out.println(USAGE);
                return 0;
            }
            if (k.equals("--verbose")) {
                verbose = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value for " + k);
            }
            String v = args[++i];
            switch (k) {
                case "--seed" -> seed = Long.parseLong(v);
                case "--runs" -> runs = positive(k, v);
                case "--threads" -> threads = positive(k, v);
                default -> overrides.add(override(k, v));
            }
        }
        if (seed == null) {
            throw new IllegalArgumentException("--seed is required");
        }
        List<Long> seeds = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            seeds.add(seed + i);
        }
        long wallStart = System.nanoTime();
        List<RunResult> results = new ArrayList<>();
        if (runs == 1 || threads == 1) {
            for (long s : seeds) {
                RunResult r = runOne(s, overrides, verbose);
                results.add(r);
                report(r);
            }
        } else {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<RunResult>> fs = new ArrayList<>();
                for (long s : seeds) {
                    fs.add(pool.submit(() -> runOne(s, overrides, false)));
                }
                for (Future<RunResult> f : fs) {
                    RunResult r = f.get();
                    results.add(r);
                    report(r);
                }
            } finally {
                pool.shutdown();
            }
        }
        table(results, System.nanoTime() - wallStart);
        return results.stream().allMatch(RunResult::pass) ? 0 : 1;
    }

    private static RunResult runOne(long seed, List<UnaryOperator<Scenario>> overrides, boolean verbose) {
        Scenario s = Scenario.random(seed);
        for (UnaryOperator<Scenario> o : overrides) {
            s = o.apply(s);
        }
        if (verbose) {
            SystemSim w = new SystemSim(s);
            w.simulation().trace().setEcho(System.out::println);
            return w.run();
        }
        return SystemSim.run(s);
    }

    private static synchronized void report(RunResult r) {
        System.out.println(r.summaryLine());
        if (!r.pass()) {
            System.out.println(r.failureReport());
        }
        System.out.flush();
    }

    private static void table(List<RunResult> rs, long wallNs) {
        long pass = rs.stream().filter(RunResult::pass).count();
        long bytes = 0;
        long retx = 0;
        long crashes = 0;
        long vt = 0;
        long lossR = 0;
        long lossS = 0;
        long maxDelivery = 0;
        Map<String, Integer> failures = new LinkedHashMap<>();
        for (RunResult r : rs) {
            bytes += r.bytesDelivered();
            retx += r.retransmissions();
            crashes += r.crashesSurvived();
            vt += r.virtualNanos();
            lossR += r.reportedLossBytes();
            lossS += r.sourceDestroyedBytes();
            maxDelivery = Math.max(maxDelivery, r.deliveredAfterNanos());
            if (!r.pass()) {
                String v = r.violation();
                String key = v.replaceFirst("^\\[[^]]*] ", "");
                key = key.length() > 70 ? key.substring(0, 70) : key;
                failures.merge(key, 1, Integer::sum);
            }
        }
        System.out.println();
        System.out.println("runs        " + rs.size() + "   PASS " + pass + "   FAIL " + (rs.size() - pass));
        System.out.printf("virtual     %.0f s total, wall %.1f s%n", vt / 1e9, wallNs / 1e9);
        System.out.println("delivered   " + bytes + " bytes; reported lost " + lossR + ", destroyed at the source "
            + lossS);
        System.out.println("retransmit  " + retx);
        System.out.println("crashes     " + crashes + " survived");
        System.out.printf("slowest delivery after faults stop: %.1f s%n", maxDelivery / 1e9);
        if (!failures.isEmpty()) {
            System.out.println("failures by first invariant broken:");
            failures.forEach((k, n) -> System.out.println("  " + n + "x " + k));
            System.out.println("failing seeds:");
            for (RunResult r : rs) {
                if (!r.pass()) {
                    System.out.println("  " + r.scenario().replayCommand());
                }
            }
        }
    }

    private static int positive(String k, String v) {
        int n = Integer.parseInt(v);
        if (n < 1) {
            throw new IllegalArgumentException(k + " must be positive");
        }
        return n;
    }

    private static UnaryOperator<Scenario> override(String k, String v) {
        return switch (k) {
            case "--agents" -> s -> copy(s, "agents", Integer.parseInt(v));
            case "--files" -> s -> copy(s, "files", Integer.parseInt(v));
            case "--duration" -> s -> copy(s, "duration", (long) (Double.parseDouble(v) * NANOS_PER_SECOND));
            case "--rate" -> s -> copy(s, "rate", Integer.parseInt(v));
            case "--loss" -> s -> copy(s, "loss", Double.parseDouble(v));
            case "--dup" -> s -> copy(s, "dup", Double.parseDouble(v));
            case "--reorder" -> s -> copy(s, "reorder", Double.parseDouble(v));
            case "--corrupt" -> s -> copy(s, "corrupt", Double.parseDouble(v));
            case "--bursts" -> s -> copy(s, "bursts", bool(k, v));
            case "--bottleneck" -> s -> copy(s, "bottleneck", bool(k, v));
            case "--partitions" -> s -> copy(s, "partitions", Integer.parseInt(v));
            case "--pauses" -> s -> copy(s, "pauses", Integer.parseInt(v));
            case "--disk-full" -> s -> copy(s, "diskFulls", Integer.parseInt(v));
            case "--crashes" -> {
                int[] n = ints(k, v, 4);
                yield s -> copy(copy(copy(copy(s, "agentKills", n[0]), "agentPowerLosses", n[1]), "serverKills", n[2]),
                    "serverPowerLosses", n[3]);
            }
            case "--rotations" -> {
                int[] n = ints(k, v, 4);
                yield s -> copy(copy(copy(copy(s, "rotations", n[0]), "copyTruncates", n[1]), "truncations", n[2]),
                    "deletions", n[3]);
            }
            case "--faults" -> {
                if (!v.equals("none")) {
                    throw new IllegalArgumentException("--faults takes only 'none'");
                }
                yield s -> {
                    Scenario c = Scenario.calm(s.seed());
                    return new Scenario(s.seed(), s.agents(), s.files(), s.durationNs(), s.bytesPerSecondPerFile(),
                        0, false, 0, 0, 0, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, c.diskFulls());
                };
            }
            default -> throw new IllegalArgumentException("unknown option " + k);
        };
    }

    private static boolean bool(String k, String v) {
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException(k + " takes true or false");
        }
        return v.equals("true");
    }

    private static int[] ints(String k, String v, int n) {
        String[] p = v.split(",");
        if (p.length != n) {
            throw new IllegalArgumentException(k + " takes " + n + " comma-separated counts");
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = Integer.parseInt(p[i].trim());
        }
        return out;
    }

    /** A copy of s with one field changed (records have no withers; this keeps the CLI table-driven). */
    private static Scenario copy(Scenario s, String field, Object v) {
        return new Scenario(s.seed(),
            field.equals("agents") ? (int) v : s.agents(),
            field.equals("files") ? (int) v : s.files(),
            field.equals("duration") ? (long) v : s.durationNs(),
            field.equals("rate") ? (int) v : s.bytesPerSecondPerFile(),
            field.equals("loss") ? (double) v : s.loss(),
            field.equals("bursts") ? (boolean) v : s.bursts(),
            field.equals("dup") ? (double) v : s.duplicate(),
            field.equals("reorder") ? (double) v : s.reorder(),
            field.equals("corrupt") ? (double) v : s.corrupt(),
            field.equals("bottleneck") ? (boolean) v : s.bottleneck(),
            field.equals("partitions") ? (int) v : s.partitions(),
            field.equals("agentKills") ? (int) v : s.agentKills(),
            field.equals("agentPowerLosses") ? (int) v : s.agentPowerLosses(),
            field.equals("serverKills") ? (int) v : s.serverKills(),
            field.equals("serverPowerLosses") ? (int) v : s.serverPowerLosses(),
            field.equals("pauses") ? (int) v : s.pauses(),
            field.equals("rotations") ? (int) v : s.rotations(),
            field.equals("copyTruncates") ? (int) v : s.copyTruncates(),
            field.equals("truncations") ? (int) v : s.truncations(),
            field.equals("deletions") ? (int) v : s.deletions(),
            field.equals("diskFulls") ? (int) v : s.diskFulls());
    }
}
