package io.tailwire.server.store;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The store's counters, shared by its rooms. Threads: the volatiles have one writer, the engine thread;
 * the atomics are written by the engine and the writer thread (and the parallel-I/O pool); anything may
 * read them.
 */
final class StoreMetrics {
    // Single writer: the engine thread.
    volatile long bytesWritten;
    volatile long rejectedPaths;
    volatile int liveStreams;
    volatile int openFiles;
    // Single writer: the writer thread (GroupCommit.syncDirty), recounted every round.
    volatile int forcesFailing;
    // Any thread.
    final AtomicLong bytesDurable = new AtomicLong();
    final AtomicLong forces = new AtomicLong();
    final AtomicLong diskErrors = new AtomicLong();
}
