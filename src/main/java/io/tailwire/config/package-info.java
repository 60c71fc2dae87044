/**
 * Every default of agent and server, defined once ({@link io.tailwire.config.Configuration}), in the manner
 * of Aeron's {@code Configuration}: the name carries the unit, the comment the reason. It sits just above
 * {@code wire} (a default may be a protocol value, such as the 1472-byte datagram) and below everything that
 * reads it: the engine's config records, the agent and server, the command lines and the simulators.
 */
package io.tailwire.config;
