/**
 * The protocol engines, sans-IO: datagrams and "now" in, datagrams, deadlines and events out; no sockets,
 * threads or clocks (wire-spec.md sections 3-8).
 * Each engine object is driven by one thread ({@link io.tailwire.engine.EngineThread}).
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
 * <p>Server side: {@link io.tailwire.engine.ServerEndpoint} is the front door for all connections of one
 * socket: it routes each datagram to the room that handles it and runs the turn ({@code poll}, {@code
 * nextDeadline}). The rooms:
 * <ul>
 *   <li>{@code ServerHandshake}: HELLO checks, the stateless RETRY cookie, WELCOME, per-address limits;</li>
 *   <li>{@code ServerConnections}: the table (by id, by agent, arrival order), per-address state, closing;</li>
 *   <li>{@code ServerControl}: STREAM_OPEN (batched per turn), STREAM_CLOSE/CLOSED, LOSS_REPORT, CLOSE;</li>
 *   <li>{@code ServerDataPath}: DATA, the reorder ring and its memory charge, delivery to the store;</li>
 *   <li>{@code ServerAcks}: when an ACK is due and what it says;</li>
 *   <li>{@code ServerWindows}: receive windows from the memory and socket budgets and the limiter;</li>
 *   <li>{@code ServerTimers}: each connection's earliest deadline in a min-heap and a bit for connections
 *       with work that is not a time, so no turn looks at an idle connection;</li>
 *   <li>{@code ServerReplies}: queued control datagrams; {@code ServerCounters}: the counters.</li>
 * </ul>
 * A connection's state is a {@code ServerConnection} with its {@code ServerStream}s: plain data the rooms act on.
 */
package io.tailwire.engine;
