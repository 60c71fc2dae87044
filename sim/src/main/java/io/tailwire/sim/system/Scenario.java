package io.tailwire.sim.system;

import static io.tailwire.io.Units.NANOS_PER_SECOND;

import io.tailwire.sim.SimRandom;

import java.util.ArrayList;
import java.util.List;

/**
 * What one whole-system run does: how many agents and files, how hard the network is, which faults and
 * how many of each. The exact times of every fault are drawn from the seed when the run starts, so
 * {@code seed} plus these fields replays a run byte for byte. {@link #random} derives a whole scenario
 * from a seed alone; the CLI overrides single fields on top of it.
 *
 * <p>Counts are numbers of events during the fault phase ({@code durationNs} of virtual time); after
 * it the network turns perfect, every process is up and the writers stop, and the run must deliver
 * everything within {@link SystemSim#livenessBoundNs}.
 */
public record Scenario(long seed, int agents, int files, long durationNs, int bytesPerSecondPerFile,
                       double loss, boolean bursts, double duplicate, double reorder, double corrupt,
                       boolean bottleneck, int partitions,
                       int agentKills, int agentPowerLosses, int serverKills, int serverPowerLosses, int pauses,
                       int rotations, int copyTruncates, int truncations, int deletions, int diskFulls) {

    public Scenario {
        if (agents < 1 || agents > 64 || files < 1 || files > 64 || durationNs < NANOS_PER_SECOND
            || bytesPerSecondPerFile < 0) {
            throw new IllegalArgumentException("bad scenario size");
        }
        for (double p : new double[] {loss, duplicate, reorder, corrupt}) {
            if (!(p >= 0 && p < 1)) {
                throw new IllegalArgumentException("probability " + p);
            }
        }
        for (int n : new int[] {partitions, agentKills, agentPowerLosses, serverKills, serverPowerLosses, pauses,
            rotations, copyTruncates, truncations, deletions, diskFulls}) {
            if (n < 0) {
                throw new IllegalArgumentException("negative count");
            }
        }
    }

    /** A fault-free baseline: one agent, one file, ten seconds. */
    public static Scenario calm(long seed) {
        return new Scenario(seed, 1, 1, 10 * NANOS_PER_SECOND, 8_000, 0, false, 0, 0, 0, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0);
    }

    /** Everything drawn from the seed: a small mix of every fault, sized for a sweep (well under a second). */
    public static Scenario random(long seed) {
        SimRandom r = new SimRandom(seed).child("scenario");
        int agents = 1 + r.nextInt(3);
        int files = 1 + r.nextInt(3);
        long duration = (10 + r.nextInt(21)) * NANOS_PER_SECOND;
        int rate = 2_000 + r.nextInt(14_000);
        double loss = r.chance(0.7) ? r.nextInt(15) / 100.0 : 0;
        boolean bursts = r.chance(0.4);
        double dup = r.chance(0.5) ? r.nextInt(10) / 100.0 : 0;
        double reorder = r.chance(0.5) ? r.nextInt(20) / 100.0 : 0;
        double corrupt = r.chance(0.3) ? r.nextInt(5) / 100.0 : 0;
        boolean bottleneck = r.chance(0.4);
        return new Scenario(seed, agents, files, duration, rate, loss, bursts, dup, reorder, corrupt, bottleneck,
            r.nextInt(3), r.nextInt(3), r.nextInt(2), r.nextInt(3), r.nextInt(2), r.nextInt(2),
            r.nextInt(4), r.nextInt(2), r.nextInt(2), r.nextInt(2), r.nextInt(2));
    }

    public Scenario withSeed(long s) {
        return new Scenario(s, agents, files, durationNs, bytesPerSecondPerFile, loss, bursts, duplicate, reorder,
            corrupt, bottleneck, partitions, agentKills, agentPowerLosses, serverKills, serverPowerLosses, pauses,
            rotations, copyTruncates, truncations, deletions, diskFulls);
    }

    public int crashes() {
        return agentKills + agentPowerLosses + serverKills + serverPowerLosses;
    }

    /** The scenario as bin/udp-sim arguments (every field explicit, so the line replays it anywhere). */
    public List<String> toArgs() {
        List<String> a = new ArrayList<>();
        add(a, "--seed", Long.toString(seed));
        add(a, "--agents", Integer.toString(agents));
        add(a, "--files", Integer.toString(files));
        add(a, "--duration", Double.toString(durationNs / (double) NANOS_PER_SECOND));
        add(a, "--rate", Integer.toString(bytesPerSecondPerFile));
        add(a, "--loss", Double.toString(loss));
        add(a, "--bursts", Boolean.toString(bursts));
        add(a, "--dup", Double.toString(duplicate));
        add(a, "--reorder", Double.toString(reorder));
        add(a, "--corrupt", Double.toString(corrupt));
        add(a, "--bottleneck", Boolean.toString(bottleneck));
        add(a, "--partitions", Integer.toString(partitions));
        add(a, "--crashes", agentKills + "," + agentPowerLosses + "," + serverKills + "," + serverPowerLosses);
        add(a, "--pauses", Integer.toString(pauses));
        add(a, "--rotations", rotations + "," + copyTruncates + "," + truncations + "," + deletions);
        add(a, "--disk-full", Integer.toString(diskFulls));
        return a;
    }

    public String replayCommand() {
        return "bin/udp-sim " + String.join(" ", toArgs());
    }

    private static void add(List<String> a, String k, String v) {
        a.add(k);
        a.add(v);
    }

    @Override
    public String toString() {
        return String.join(" ", toArgs());
    }
}
