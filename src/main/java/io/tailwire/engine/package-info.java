/**
 * The protocol as sans-IO state machines: datagrams and "now" in, datagrams and deadlines out; no sockets,
 * no clocks, no threads of their own. Each engine object is driven by one thread ({@link
 * io.tailwire.engine.EngineThread}).
 *
 * <p>Agent side: {@link io.tailwire.engine.AgentConnection}, its named timers ({@code TimerTable}), RTT and
 * congestion control ({@code RttEstimator}, {@code NewReno}).
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
