/**
 * The one fault model: what a link does to a datagram. {@link io.tailwire.fault.FaultModel} is the settings
 * (loss, Gilbert-Elliott bursts, duplication, reordering, corruption, delay and jitter, a bottleneck queue, a
 * policer); {@link io.tailwire.fault.FaultLane} applies them to one direction's datagrams, drawing from a
 * {@link io.tailwire.fault.FaultRandom}. The simulators' network ({@code io.tailwire.sim.Link}), the engine
 * tests' virtual network and udp-chaos ({@code io.tailwire.tools.FaultDecider}) all decide through it, so a
 * fault means the same thing everywhere. Uses nothing of ours: no clock, no sockets.
 */
package io.tailwire.fault;
