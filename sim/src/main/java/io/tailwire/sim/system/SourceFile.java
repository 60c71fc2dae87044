package io.tailwire.sim.system;

import io.tailwire.io.FsFile;
import io.tailwire.sim.SimFs;
import io.tailwire.sim.SimRandom;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A simulated application writing one log file on an agent's host, and the ground truth of what it
 * wrote: the file's generations, each the bytes written between two events that start a new one
 * (rename+create, copytruncate, truncation, deletion).
 *
 * <p>Every line starts with an upper-case letter naming its generation (A, B, ... cycling) followed by
 * lower-case payload, so two neighbouring generations never share a line prefix: that is what lets the
 * checker align an output against the generations unambiguously.
 *
 * <p>In scenarios with host power loss the writer forces every write (and always every namespace change),
 * so a power loss never changes the source (the ground truth stays exact); what it can destroy is the
 * agent's own state. Real writers rarely fsync; modelling a source that loses its tail is left out.
 */
final class SourceFile {
    /** How a generation ended (ACTIVE: it is the last one). */
    enum End { ACTIVE, RENAMED, COPYTRUNCATED, TRUNCATED, DELETED }

    static final class Gen {
        final int index;
        final char letter;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        End end = End.ACTIVE;
        /** The event that ended it happened while its agent was down or frozen. */
        boolean whileAgentAway;

        Gen(int index) {
            this.index = index;
            this.letter = (char) ('A' + index % 26);
        }

        /**
         * The generation may lose a suffix without the agent knowing (its source content was destroyed). A copytruncate
         * destroys nothing: the copy holds the generation, and an agent that saw it ships the rest from there (wire-spec
         * 6.6). Only one done while the agent was away is excused: the agent may never have seen the generation's
         * first bytes (created just before it died), and cannot know the copy is the path's.
         */
        boolean sourceDestroyed() {
            return end == End.TRUNCATED || ((end == End.DELETED || end == End.COPYTRUNCATED) && whileAgentAway);
        }
    }

    final String agentId;
    final SimFs fs;
    final Path path;
    final int meanLine;
    final SimRandom random;
    final List<Gen> gens = new ArrayList<>();
    private int rotatedNames;
    long bytesWritten;
    /** Namespace or truncation events since the agent's current absence began (see SystemSim.scheduleFileEvents). */
    int eventsWhileAgentAway;
    /** The first of them (null if none). */
    End firstEventWhileAway;

    /** Forcing every write keeps the ground truth exact across host power loss; needless otherwise. */
    private final boolean forceWrites;

    SourceFile(String agentId, SimFs fs, Path path, int meanLine, SimRandom random, boolean forceWrites) {
        this.forceWrites = forceWrites;
        this.agentId = agentId;
        this.fs = fs;
        this.path = path;
        this.meanLine = meanLine;
        this.random = random;
        gens.add(new Gen(0));
    }

    Gen current() {
        return gens.get(gens.size() - 1);
    }

    /** Appends about {@code bytes} bytes of whole lines (at least one line). */
    void write(int bytes) throws IOException {
        Gen g = current();
        ByteArrayOutputStream chunk = new ByteArrayOutputStream(bytes + 2 * meanLine);
        do {
            int len = 1 + random.nextInt(2 * meanLine);
            chunk.write(g.letter);
            for (int i = 0; i < len; i++) {
                chunk.write('a' + random.nextInt(26));
            }
            chunk.write('\n');
        } while (chunk.size() < bytes);
        byte[] b = chunk.toByteArray();
        try (FsFile f = fs.openWrite(path)) {
            long at = f.size();
            if (at != g.bytes.size()) {
                throw new IllegalStateException("source model out of step: " + path + " holds " + at
                    + " bytes, model " + g.bytes.size());
            }
            f.write(ByteBuffer.wrap(b), at);
            if (forceWrites) {
                f.force();
            }
        }
        if (fs.size(path) == b.length) {
            fs.forceDirectory(path.getParent()); // the file was just created
        }
        g.bytes.write(b);
        bytesWritten += b.length;
    }

    /** logrotate's default: rename to a new name, create an empty file at the path. */
    void rotate() throws IOException {
        if (!fs.exists(path)) {
            return;
        }
        fs.rename(path, Path.of(path + ".r" + (++rotatedNames)));
        fs.openWrite(path).close();
        fs.forceDirectory(path.getParent());
        next(End.RENAMED);
    }

    /** logrotate copytruncate: copy aside, truncate in place (same inode). */
    void copyTruncate() throws IOException {
        if (!fs.exists(path)) {
            return;
        }
        fs.copy(path, Path.of(path + ".c" + (++rotatedNames)));
        truncateInPlace();
        fs.forceDirectory(path.getParent());
        next(End.COPYTRUNCATED);
    }

    /** Someone empties the file ({@code > app.log}). */
    void truncate() throws IOException {
        if (!fs.exists(path)) {
            return;
        }
        truncateInPlace();
        next(End.TRUNCATED);
    }

    /** rm app.log while the agent holds it open; the writer creates a new file on its next write. */
    void delete() throws IOException {
        if (!fs.exists(path)) {
            return;
        }
        fs.delete(path);
        fs.forceDirectory(path.getParent());
        next(End.DELETED);
    }

    private void truncateInPlace() throws IOException {
        try (FsFile f = fs.openWrite(path)) {
            f.truncate(0);
            f.force();
        }
    }

    private void next(End how) {
        current().end = how;
        gens.add(new Gen(gens.size()));
        if (eventsWhileAgentAway++ == 0) {
            firstEventWhileAway = how;
        }
    }
}
