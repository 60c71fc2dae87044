package io.tailwire.sim.engine;

import com.beust.jcommander.JCommander;
import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;

import io.tailwire.config.Configuration;

/**
 * Runs one engine fault-injection scenario and prints a one-line summary (and on failure the seed, fault
 * mix, replay command and trace tail). Exit 0 on pass, 1 on failure, 2 on bad flags. Invoked as
 * {@code bin/udp-sim engine FLAGS} or {@code java -cp target/tailwire.jar:target/tailwire-sim.jar
 * io.tailwire.sim.engine.EngineSimMain FLAGS}; a leading word {@code engine} is accepted and ignored so both forms take the same flags.
 *
 * <p>Per-direction faults are given as {@code --up SPEC} / {@code --down SPEC} (see {@link LinkFaults#spec()});
 * the shorthand flags {@code --loss --dup --reorder ...} set both directions and are overridden by --up/--down.
 */
public final class EngineSimMain {
    static final String PROGRAM = "udp-sim engine";

    static final class Options {
        @Parameter(names = "--seed", description = "root seed")
        long seed = 1;
        @Parameter(names = "--streams", description = "streams on the connection")
        int streams = 1;
        @Parameter(names = "--bytes", description = "bytes per stream")
        int bytes = 20_000;
        @Parameter(names = "--up", description = "agent->server faults, e.g. loss=0.3,dup=0.2,reorder=0.5,"
            + "reorder-max-us=20000,delay-us=500,jitter-us=100,corrupt=0.01,ge-gb=0.05,ge-bg=0.3,ge-loss=1,bw=1000000,"
            + "queue=65536 ('none' = perfect)")
        String up;
        @Parameter(names = "--down", description = "server->agent faults, same keys as --up")
        String down;
        @Parameter(names = "--loss", description = "both directions: Bernoulli loss")
        double loss;
        @Parameter(names = "--dup", description = "both directions: duplication probability")
        double dup;
        @Parameter(names = "--reorder", description = "both directions: reordering probability")
        double reorder;
        @Parameter(names = "--reorder-max-us", description = "both directions: largest reordering delay")
        long reorderMaxUs = 20_000;
        @Parameter(names = "--delay-us", description = "both directions: one-way delay")
        long delayUs = 100;
        @Parameter(names = "--jitter-us", description = "both directions: jitter")
        long jitterUs;
        @Parameter(names = "--corrupt", description = "both directions: corruption probability")
        double corrupt;
        @Parameter(names = "--partition-start-ms", description = "partition start after the beginning")
        long partitionStartMs;
        @Parameter(names = "--partition-ms", description = "partition length, 0 = none")
        long partitionMs;
        @Parameter(names = "--handshake-drops", description = "drop the first N handshake datagrams each way")
        int handshakeDrops;
        @Parameter(names = "--datagram", description = "max datagram size")
        int datagram = Configuration.AGENT_MAX_DATAGRAM_BYTES;
        @Parameter(names = "--budget", description = "server receive budget per connection, bytes")
        long budget = Configuration.CONNECTION_BUFFER_BYTES;
        @Parameter(names = "--initial-window", description = "window in WELCOME, bytes")
        int initialWindow = Configuration.INITIAL_WINDOW_BYTES;
        @Parameter(names = "--sync-us", description = "store sync interval, 0 = durable on write")
        long syncUs;
        @Parameter(names = "--trace", description = "print the whole trace while running")
        boolean trace;
        @Parameter(names = {"--help", "-h"}, help = true, description = "show this help")
        boolean help;
    }

    private EngineSimMain() {
    }

    /** Builds the scenario the flags describe (shared with tests, so the replay command is checked). */
    static EngineScenario parse(String... args) {
        Options o = new Options();
        String[] rest = args.length > 0 && args[0].equals("engine") ? java.util.Arrays.copyOfRange(args, 1,
            args.length) : args;
        JCommander.newBuilder().programName(PROGRAM).addObject(o).build().parse(rest);
        return toScenario(o);
    }

    private static EngineScenario toScenario(Options o) {
        LinkFaults both = new LinkFaults(o.loss, o.dup, o.reorder, o.reorder > 0 ? o.reorderMaxUs : 0, o.delayUs,
            o.jitterUs, o.corrupt, 0, 0, 0, 0, 0);
        LinkFaults up = o.up == null ? both : LinkFaults.parse(o.up);
        LinkFaults down = o.down == null ? both : LinkFaults.parse(o.down);
        return new EngineScenario(o.seed, o.streams, o.bytes, up, down, o.partitionStartMs, o.partitionMs,
            o.handshakeDrops, o.datagram, o.budget, o.initialWindow, o.syncUs);
    }

    public static void main(String[] args) {
        Options o = new Options();
        String[] rest = args.length > 0 && args[0].equals("engine") ? java.util.Arrays.copyOfRange(args, 1,
            args.length) : args;
        JCommander jc = JCommander.newBuilder().programName(PROGRAM).addObject(o).build();
        EngineScenario sc;
        try {
            jc.parse(rest);
            if (o.help) {
                StringBuilder sb = new StringBuilder();
                jc.getUsageFormatter().usage(sb);
                System.out.print(sb);
                return;
            }
            sc = toScenario(o);
        } catch (ParameterException | IllegalArgumentException e) {
            String m = String.valueOf(e.getMessage());
            int nl = m.indexOf('\n');
            System.err.println(PROGRAM + ": " + (nl < 0 ? m : m.substring(0, nl)) + " (see " + PROGRAM + " --help)");
            System.exit(2);
            return;
        }
        EngineRun.Result r = o.trace ? EngineRun.run(sc, System.out::println) : EngineRun.run(sc);
        System.out.println(r.summary());
        if (!r.passed()) {
            System.out.println(r.failureReport());
            System.exit(1);
        }
    }
}
