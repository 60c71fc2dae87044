package io.tailwire.engine;

import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamReply;

/** One stream of a server connection: an open generation, or a refused open's remembered reply. */
@EngineThread
final class ServerStream {
    final int id;
    final String path;
    final long generation;
    /** Null for a refused open. */
    final StoredStream stored;
    final StreamReply reply;
    /** The request it answers: only an identical copy is a repeat (wire-spec.md 6.1). */
    final StreamOpen open;
    long reportedDurable;
    long closeFinal = -1;
    long lossReportedTo;
    /** Lowest from_offset reported lost: a loss ends the generation there (wire-spec.md 6.5). */
    long lossFrom = Long.MAX_VALUE;
    /** from_offset of the possible loss of unknown size last reported (-1: none), so repeats are passed once. */
    long possibleLossAt = -1;

    ServerStream(int id, String path, long generation, StoredStream stored, StreamReply reply, StreamOpen open) {
        this.id = id;
        this.path = path;
        this.generation = generation;
        this.stored = stored;
        this.reply = reply;
        this.open = open;
    }
}
