package io.tailwire.server.store;

import io.tailwire.io.FsDir;
import io.tailwire.io.UnsafeLinkException;

import java.io.IOException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Keeps every output file inside OUT/agent_id on the disk as it is, creating the directories a new path
 * needs (wire-spec.md 6.2). Names are checked first by {@link OutputPaths}. Every step below OUT goes
 * through an open directory by name without following a symbolic link ({@link FsDir}): checking a path
 * and then opening it by path let anyone who can write inside OUT swap a link in between (issue 13 item
 * 10). So any symbolic link below OUT is refused, also one pointing inside. Threads: the engine thread, or
 * the parallel-I/O pool for paths of one {@link OutputStore#openAll} batch (distinct paths; directories
 * another open of the batch made meanwhile are accepted like any).
 */
final class PathContainment {
    /** Why a path is refused (BAD_PATH), as opposed to a storage error. */
    static final class BadPathException extends IOException {
        BadPathException(String message) {
            super(message);
        }
    }

    /**
     * Where a path's output goes: file {@code name} in the open directory {@code dir}, its index in the
     * open directory {@code meta}; {@code existed}: the file was there before. The caller closes both.
     */
    record Target(FsDir dir, String name, FsDir meta, boolean existed) {
        Path file() {
            return dir.path().resolve(name);
        }
    }

    private final FsDir out;

    /** @param out OUT, open for the store's lifetime */
    PathContainment(FsDir out) {
        this.out = out;
    }

    /** Validates the path against the disk and creates (and forces) the directories it needs. */
    Target resolve(Key key) throws IOException {
        FsDir agent = step(out, key.agentId());
        FsDir dir = agent;
        FsDir meta = null;
        try {
            String path = key.path();
            int from = 1;
            for (int slash = path.indexOf('/', from); slash >= 0; slash = path.indexOf('/', from)) {
                FsDir next = step(dir, path.substring(from, slash));
                if (dir != agent) {
                    closeQuietly(dir);
                }
                dir = next;
                from = slash + 1;
            }
            String name = path.substring(from);
            FsDir.Kind k = dir.kind(name);
            if (k == FsDir.Kind.DIRECTORY) {
                throw new BadPathException("path conflicts with an existing directory");
            }
            if (k == FsDir.Kind.LINK) {
                throw new BadPathException("path is a symbolic link (refused below OUT)");
            }
            if (k == FsDir.Kind.OTHER) {
                throw new BadPathException("path names a special file");
            }
            meta = step(agent, OutputPaths.META_DIR);
            if (dir != agent) {
                closeQuietly(agent);
            }
            return new Target(dir, name, meta, k == FsDir.Kind.FILE);
        } catch (IOException | RuntimeException e) {
            closeQuietly(meta);
            if (dir != agent) {
                closeQuietly(dir);
            }
            closeQuietly(agent);
            throw e;
        }
    }

    /** Opens directory {@code name} in {@code parent}, creating it (durably) if absent; never a link. */
    private static FsDir step(FsDir parent, String name) throws IOException {
        try {
            FsDir d = parent.openDir(name);
            if (d == null) {
                if (parent.createDir(name)) {
                    parent.force(); // the new entry survives a crash
                }
                d = parent.openDir(name); // what is there now, still not through a link
                if (d == null) {
                    throw new IOException(parent.path().resolve(name) + " vanished while it was being created");
                }
            }
            return d;
        } catch (NotDirectoryException e) {
            throw new BadPathException("path conflicts with an existing file");
        } catch (UnsafeLinkException e) {
            throw new BadPathException("path passes through a symbolic link (refused below OUT)");
        }
    }

    static void closeQuietly(FsDir d) {
        if (d != null) {
            try {
                d.close();
            } catch (IOException e) {
                // a directory only read: nothing lost
            }
        }
    }
}
