package io.tailwire.agent;

/**
 * Something the tailer noticed, for logging (and, for {@link Kind#LOSS}, for a LOSS_REPORT).
 * {@code from}/{@code to} are a byte range of the generation for LOSS, otherwise -1 unless noted.
 * {@code generation} is the generation's number when the event was made; {@code source} is the generation
 * itself (null for path-level events): a generation queued behind a rotated file that turns out to have been
 * truncated is renumbered one up after its events were made, so whoever looks at an event later asks
 * {@link #currentGeneration()}, not the number it carried.
 */
public record TailEvent(Kind kind, String path, long generation, long from, long to, String reason,
                        Generation source) {
    public enum Kind {
        /** A new generation started: a file appeared at the path, or a truncation began a new one. */
        NEW_FILE,
        /** The file at the path was replaced (rename+create); the old generation is read to its end. */
        ROTATION,
        /** The file was truncated or rewritten in place; the generation ended at what was read. */
        TRUNCATION,
        /** The path vanished while the file was open; the open handle is read to its end. */
        DELETION,
        /** A generation's final length is known ({@code to} = final length). */
        FINISHED,
        /**
         * Bytes [from, to) of the generation are gone and will never be shipped. {@code from == to}: bytes from
         * {@code from} on may be gone, how many (possibly none) is unknown (wire-spec.md 6.5).
         */
        LOSS,
        /** A generation from the state file was found again ({@code reason} says where). */
        RESTORED,
        /**
         * An I/O error while scanning began (sent once, not per scan; {@code reason} in plain words); the
         * path is retried on every scan.
         */
        ERROR,
        /** The error reported by the last {@link #ERROR} of this path is over ({@code reason} says how long it lasted). */
        RECOVERED
    }

    static TailEvent of(Kind kind, Generation g, String reason) {
        return new TailEvent(kind, g.path(), g.number(), -1, -1, reason, g);
    }

    static TailEvent loss(Generation g, long from, long to, String reason) {
        return new TailEvent(Kind.LOSS, g.path(), g.number(), from, to, reason, g);
    }

    static TailEvent finished(Generation g, long finalLength, String reason) {
        return new TailEvent(Kind.FINISHED, g.path(), g.number(), -1, finalLength, reason, g);
    }

    static TailEvent ofPath(Kind kind, String path, String reason) {
        return new TailEvent(kind, path, 0, -1, -1, reason, null);
    }

    /** A LOSS whose size is unknown: bytes from {@link #from} on may be gone (wire-spec.md 6.5). */
    public boolean unknownSize() {
        return kind == Kind.LOSS && from == to;
    }

    /** The generation's number now (it may have moved up since the event was made), or the number carried. */
    public long currentGeneration() {
        return source == null ? generation : source.number();
    }
}
