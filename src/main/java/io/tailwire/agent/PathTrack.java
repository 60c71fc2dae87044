package io.tailwire.agent;

import io.tailwire.proto.FileIdentity;
import java.nio.file.Path;
import java.util.ArrayDeque;

/** Everything the tailer knows about one source path: its generations, oldest (shippable) first. */
final class PathTrack {
    final String name;
    final Path path;
    /** Configured (explicitly or by a glob) and not only known from the state file. */
    boolean wanted;
    /** Generation numbers agreed with saved state (or the server); false: open with generation 0. */
    boolean confirmed;
    final ArrayDeque<Generation> gens = new ArrayDeque<>();
    long nextNumber = 1;
    long lastClosedNumber;
    long lastClosedFinal;
    FileIdentity lastClosedIdentity;
    /** Scanning the path fails (unreadable file): logged when it starts and when it ends, not per scan. */
    LoggedCondition error;

    PathTrack(Path path, boolean wanted, boolean confirmed) {
        this.path = path;
        this.name = path.toString();
        this.wanted = wanted;
        this.confirmed = confirmed;
    }

    Generation active() {
        Generation last = gens.peekLast();
        return last != null && last.state == Generation.State.ACTIVE ? last : null;
    }
}
