package io.tailwire.engine;

import io.tailwire.proto.StreamOpen;

/**
 * What the server's protocol engine asks of storage. The server implements it over its output
 * directory; the simulator over a simulated disk. Calls come from the engine's single thread.
 */
public interface StreamStore {
    /**
     * Opens or resumes a stream for an agent (wire-spec.md 6.1). May block briefly: the resume offset
     * it returns must be durable before the reply is sent.
     */
    OpenResult open(String agentId, StreamOpen request);

    /**
     * Writes out what {@link StoredStream#append} gathered, so a store may write once per file per engine
     * turn instead of once per datagram. The engine calls it at the start of {@code poll}. Returns false
     * if some gathered bytes could not be written yet (they stay held, not durable); the engine retries.
     */
    default boolean flush() {
        return true;
    }

    /**
     * Periodic housekeeping on the engine thread, called at the start of every {@code poll} with the
     * engine's time: a store decides itself how often to act (e.g. the server checks that its output files
     * are still at their paths a few times a minute, not per datagram).
     */
    default void maintain(long nowNs) {
    }

    /**
     * Opens several streams, results in request order. A store may do their I/O together (several paths
     * at once, one round of forces); each result must be what {@link #open} would have answered, durable
     * before this returns. Requests for the same path are answered in order. Default: one by one.
     */
    default java.util.List<OpenResult> openAll(java.util.List<OpenRequest> requests) {
        java.util.List<OpenResult> results = new java.util.ArrayList<>(requests.size());
        for (OpenRequest r : requests) {
            results.add(open(r.agentId(), r.request()));
        }
        return results;
    }

    /** One STREAM_OPEN of an agent, for {@link #openAll}. */
    record OpenRequest(String agentId, StreamOpen request) {
    }

    /** The result of {@link #open}. {@code stream} is null unless status is OK. */
    record OpenResult(io.tailwire.proto.StreamStatus status, long resumeOffset, long generation, String message,
                      StoredStream stream) {
    }
}
