/**
 * {@code bin/udp-sim}: the simulator's command line. It sits above both simulators (whole-system
 * {@code sim.system}, engine-level {@code sim.engine}) so that neither they nor the substrate {@code sim}
 * import upward; it lives, like the rest of sim/, in {@code target/tailwire-sim.jar}, not the shipping jar.
 */
package io.tailwire.sim.cli;
