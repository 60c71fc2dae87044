package io.tailwire.engine;

import org.agrona.DirectBuffer;

/** One opened generation in the server's storage. */
public interface StoredStream {
    /** Bytes of this generation the store holds (written, maybe not yet durable). */
    long held();

    /** Bytes of this generation that are on stable storage. Never more than {@link #held()}. */
    long durable();

    /**
     * Appends in-order bytes starting at {@code offset} (which is at most {@link #held()}; the part below
     * held is skipped, never written twice). Returns false, writing nothing, when the store cannot take
     * them now (disk full, I/O error); the engine then keeps them and retries later.
     */
    boolean append(long offset, DirectBuffer src, int index, int length);

    /**
     * Where this generation ends, or -1 while it may still grow. Set by {@link #close} or when the store
     * closed it implicitly (the next generation was opened, wire-spec.md 6.1). The engine never appends
     * bytes at or past it: DATA there is a protocol violation, not a storage stall.
     */
    default long finalLength() {
        return -1;
    }

    /**
     * Records durably that the generation ends at {@code finalLength} (all of it durable, STREAM_CLOSE
     * accepted), before the engine sends STREAM_CLOSED: a reopen after either side restarts is then
     * answered GENERATION_CLOSED instead of taking more bytes. Returns false if it could not be recorded
     * now (I/O error); the engine answers the agent's next STREAM_CLOSE repeat instead.
     */
    default boolean close(long finalLength) {
        return true;
    }

    /** The connection no longer uses this stream (connection closed or stream closed). */
    void release();
}
