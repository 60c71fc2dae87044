/**
 * Deterministic discrete-event simulation substrate: one thread, virtual time, one seed replays a run.
 *
 * <ul>
 * <li>{@link io.tailwire.sim.Simulation}: owns the {@link io.tailwire.sim.SimClock}, the
 * {@link io.tailwire.sim.EventQueue}, the root {@link io.tailwire.sim.SimRandom}, the
 * {@link io.tailwire.sim.Trace} and the {@link io.tailwire.sim.SimNetwork}; drives
 * {@link io.tailwire.sim.SimNode}s by their deadlines, bounded by virtual time and step count.</li>
 * <li>{@link io.tailwire.sim.SimNetwork}: datagrams between addresses through per-direction
 * {@link io.tailwire.sim.Link}s shaped by a {@link io.tailwire.fault.FaultModel}.</li>
 * <li>{@link io.tailwire.sim.SimFs}: one per simulated host, an in-memory {@link io.tailwire.io.Fs} with
 * crash semantics and a capacity.</li>
 * </ul>
 * Determinism rules for code plugged in: take time only from the simulation's clock, randomness only from
 * a named child of its SimRandom, and never iterate a HashMap/HashSet whose order could change the
 * outcome.
 *
 * <p>This substrate is the bottom of the simulator: {@code sim.engine} and {@code sim.system} use it, and
 * {@code sim.cli} uses those; it imports neither (ArchitectureTest).
 */
package io.tailwire.sim;
