package io.tailwire.sim.engine;

import io.tailwire.config.Configuration;
import io.tailwire.wire.Wire;

/**
 * One fault-injection run of the protocol engine, fully determined by these values: the seed drives the
 * network's random choices, the engine's nonces and ids, the source bytes and how the application cuts
 * them into segments. {@link #replayCommand()} prints the command that reruns exactly this scenario.
 *
 * @param seed              root seed of the simulation
 * @param streams           streams opened on the one connection (1..)
 * @param bytesPerStream    bytes each stream carries (0..)
 * @param up                faults agent -> server (DATA, PING, control requests)
 * @param down              faults server -> agent (ACK, replies)
 * @param partitionStartMs  when (after the start) both directions are cut
 * @param partitionMs       how long the cut lasts, 0 = no partition
 * @param handshakeDrops    the first N handshake datagrams of each direction (HELLO; RETRY/WELCOME) are dropped
 * @param datagram          max datagram size both sides offer
 * @param budget            server's per-connection receive budget in bytes (the advertised window is what is
 *                          free of it)
 * @param initialWindow     window the server announces in WELCOME
 * @param syncUs            the store makes bytes durable every syncUs; 0 = durable as soon as written
 */
public record EngineScenario(long seed, int streams, int bytesPerStream, LinkFaults up, LinkFaults down,
                             long partitionStartMs, long partitionMs, int handshakeDrops, int datagram, long budget,
                             int initialWindow, long syncUs) {
    public EngineScenario {
        if (streams < 1 || bytesPerStream < 0 || partitionStartMs < 0 || partitionMs < 0 || handshakeDrops < 0
            || syncUs < 0) {
            throw new IllegalArgumentException("negative or zero where it makes no sense");
        }
        if (datagram < Wire.MIN_MAX_DATAGRAM || datagram > Wire.MAX_MAX_DATAGRAM) {
            throw new IllegalArgumentException("datagram out of 1200..65507: " + datagram);
        }
        if (budget < datagram || initialWindow < 0 || initialWindow > budget) {
            throw new IllegalArgumentException("need datagram <= budget and 0 <= initial window <= budget");
        }
    }

    /** A clean LAN-like scenario with the shipped datagram size, buffer and window to start from. */
    public static EngineScenario basic(long seed) {
        return new EngineScenario(seed, 1, 20_000, LinkFaults.clean(), LinkFaults.clean(), 0, 0, 0,
            Configuration.AGENT_MAX_DATAGRAM_BYTES, Configuration.CONNECTION_BUFFER_BYTES,
            Configuration.INITIAL_WINDOW_BYTES, 0);
    }

    public EngineScenario withFaults(LinkFaults up, LinkFaults down) {
        return new EngineScenario(seed, streams, bytesPerStream, up, down, partitionStartMs, partitionMs,
            handshakeDrops, datagram, budget, initialWindow, syncUs);
    }

    public EngineScenario withSeed(long s) {
        return new EngineScenario(s, streams, bytesPerStream, up, down, partitionStartMs, partitionMs,
            handshakeDrops, datagram, budget, initialWindow, syncUs);
    }

    public long totalBytes() {
        return (long) streams * bytesPerStream;
    }

    /** The flags of {@code bin/udp-sim engine} (and EngineSimMain) that reproduce this scenario. */
    public String flags() {
        return "--seed " + seed + " --streams " + streams + " --bytes " + bytesPerStream + " --up " + up.spec()
            + " --down " + down.spec() + " --partition-start-ms " + partitionStartMs + " --partition-ms "
            + partitionMs + " --handshake-drops " + handshakeDrops + " --datagram " + datagram + " --budget "
            + budget + " --initial-window " + initialWindow + " --sync-us " + syncUs;
    }

    /** The one documented command that replays this scenario (see sim/README.md). */
    public String replayCommand() {
        return "bin/udp-sim engine " + flags();
    }

    /** Short human description of the fault mix, for failure messages. */
    public String faultMix() {
        return "up[" + up.spec() + "] down[" + down.spec() + "]"
            + (partitionMs > 0 ? " partition " + partitionMs + " ms at +" + partitionStartMs + " ms" : "")
            + (handshakeDrops > 0 ? " handshake-drops " + handshakeDrops : "")
            + " datagram " + datagram + " budget " + budget + " initial-window " + initialWindow
            + (syncUs > 0 ? " sync every " + syncUs + " us" : " sync on write");
    }
}
