/**
 * The agent's file side, independent of the network.
 *
 * <p>How the runtime drives it (single thread, {@code now} from its {@link io.tailwire.io.Clock}):
 * <ol>
 *   <li>At start: {@code AgentStateStore.load()}, then {@code Tailer.restore(state, now)} before the
 *       first {@code scan}.</li>
 *   <li>Loop: {@code scan(now)} when the {@link io.tailwire.agent.PollBackoff} delay is up. For every
 *       generation in {@code shippable()} without a stream: STREAM_OPEN with {@code path()},
 *       {@code numberConfirmed() ? number() : 0}, {@code identity()}, {@code previousLength()}; on the reply
 *       call {@code adoptGeneration} if the server's generation differs, and {@code seek(g, resume_offset)}.
 *       Read {@code readable()} in order with {@code read(g, buf)} into DATA packets. When
 *       {@code g.fullyRead()} and everything is acknowledged: STREAM_CLOSE({@code finalLength()}); on
 *       STREAM_CLOSED with the full length (or STALE_GENERATION) call {@code closed(g)}: the next generation
 *       of the path then appears in {@code shippable()}.</li>
 *   <li>Every {@link io.tailwire.agent.TailEvent.Kind#LOSS} event: log it and, if the generation has a
 *       stream, send LOSS_REPORT for the range (an empty one, {@code unknownSize()}, is a loss of unknown
 *       size: log it as such, and send it as it is, wire-spec.md 6.5).</li>
 *   <li>Durable offsets from ACK/STREAM_REPLY/STREAM_CLOSED: {@code durable(g, offset)}; save
 *       {@code snapshot()} with {@code AgentStateStore.save} now and then and at shutdown.</li>
 * </ol>
 *
 * <p>{@link io.tailwire.agent.AgentCore} does all this: after each call into the
 * {@link io.tailwire.engine.AgentConnection} it takes the connection's queued
 * {@link io.tailwire.engine.AgentEvent}s and acts on them, outside the connection. Its streams room,
 * {@code AgentStreams}, keeps one {@code GenerationStream} per generation (its stream on the current
 * connection, a refusal, how the next open asks, the fingerprint saved); a stream's phase (opening, open,
 * closing) is the connection's, not kept twice.
 */
package io.tailwire.agent;
