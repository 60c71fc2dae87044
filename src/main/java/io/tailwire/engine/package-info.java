/**
 * The protocol engines, sans-IO: datagrams and "now" in, datagrams, deadlines and events out; no sockets,
 * threads or clocks (wire-spec.md sections 3-8).
 *
 * <p>Agent side: {@link io.tailwire.engine.AgentConnection} is one connection attempt: the handshake, the
 * connection's lifetime and the dispatch of datagrams and timers to its rooms: the stream table
 * ({@code AgentStreamTable}), the control messages and their repeats ({@code ControlSender}), and the send
 * window with loss recovery and congestion control ({@code SendWindow}, {@code LossEpisode},
 * {@link io.tailwire.engine.NewReno}, {@link io.tailwire.engine.RttEstimator}), all on one table of named
 * timers ({@code TimerTable}). It never calls out: what a datagram or a timer changed is queued as an
 * {@link io.tailwire.engine.AgentEvent} and the caller takes it with
 * {@link io.tailwire.engine.AgentConnection#pollEvent()} after each {@code onDatagram}/{@code poll}, so
 * acting on one never re-enters the connection.
 *
 * <p>Server side: {@link io.tailwire.engine.ServerEndpoint} serves every connection of one socket and
 * writes through a {@link io.tailwire.engine.StreamStore}.
 */
package io.tailwire.engine;
