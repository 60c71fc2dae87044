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

    /** The connection no longer uses this stream (connection closed or stream closed). */
    void release();
}
