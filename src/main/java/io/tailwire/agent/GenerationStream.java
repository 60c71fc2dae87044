package io.tailwire.agent;

/**
 * Everything the agent keeps about shipping one generation: its stream on the current connection, if any
 * (whose phase the connection tracks: {@code AgentConnection.streamPhase}), and what outlives a connection
 * (a refusal, how the next open must ask, how much of its fingerprint the state file holds).
 * Owned by {@link AgentCore}'s thread.
 */
final class GenerationStream {
    /** {@link #streamId} when the generation has no stream on the current connection. */
    static final int NO_STREAM = 0;
    /** {@link #streamId} when the current connection could not take the open (STREAM_OPEN over one datagram). */
    static final int UNOPENABLE = -1;

    final Generation gen;
    /** Its stream on the current connection, {@link #NO_STREAM}, or {@link #UNOPENABLE}. */
    int streamId = NO_STREAM;
    /** Next offset to queue on the connection. */
    long sendOffset;
    /** Refused for a reason that may pass: opened again (a fresh open) at {@link #retryAtNs}. */
    boolean retrying;
    long retryAtNs;
    /** Refused for good (bad path): why. Not asked again this run. */
    String refusedForGood;
    /** The next open asks the server to match by identity (generation 0). */
    boolean matchByIdentity;
    /** Fingerprint length as last written to the state file; -1 if never written. */
    int persistedFingerprint = -1;

    GenerationStream(Generation gen) {
        this.gen = gen;
    }

    /** It has a stream on the current connection, or waits to retry one: not opened again now. */
    boolean busy() {
        return streamId != NO_STREAM || retrying;
    }

    /** Its stream is on the connection (an id the connection knows). */
    boolean hasStream() {
        return streamId > 0;
    }
}
