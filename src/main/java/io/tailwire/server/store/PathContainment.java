package io.tailwire.server.store;

import io.tailwire.io.Fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps every output file inside OUT/agent_id on the disk as it is (symbolic links included), creating the
 * directories a new path needs (wire-spec.md 6.2). Names are checked first by {@link OutputPaths}.
 * Threads: the engine thread, or the parallel-I/O pool for paths of one {@link OutputStore#openAll} batch
 * (distinct paths; directories another open of the batch made meanwhile are accepted like any).
 */
final class PathContainment {
    /** Why a path is refused (BAD_PATH), as opposed to a storage error. */
    static final class BadPathException extends IOException {
        BadPathException(String message) {
            super(message);
        }
    }

    /** Where a path's output file goes; {@code existed}: the file was there before. */
    record Target(Path agentDir, Path file, boolean existed) {
    }

    private final Fs fs;
    private final Path out;

    PathContainment(Fs fs, Path out) {
        this.fs = fs;
        this.out = out;
    }

    /** Validates the path against the disk and creates (and forces) the directories it needs. */
    Target resolve(Key key) throws IOException {
        Path agentDir = out.resolve(key.agentId());
        ensureDir(agentDir, out);
        Path agentReal = fs.realPath(agentDir);
        Path target = OutputPaths.outputFile(agentDir, key.path());
        Path parent = target.getParent();

        // Deepest existing directory: it must already resolve inside OUT/agent_id, before we create anything.
        Path existing = parent;
        while (!existing.equals(agentDir) && !fs.isDirectory(existing)) {
            existing = existing.getParent();
        }
        if (!fs.realPath(existing).startsWith(agentReal)) {
            throw new BadPathException("path resolves outside the agent's output directory");
        }
        List<Path> missing = new ArrayList<>();
        for (Path p = parent; !p.equals(existing); p = p.getParent()) {
            missing.add(0, p);
        }
        for (Path dir : missing) {
            if (existsNoFollow(dir)) {
                if (fs.isDirectory(dir)) {
                    continue; // made meanwhile by a parallel open of the same batch (checked below like any)
                }
                throw new BadPathException("path conflicts with an existing file");
            }
            fs.createDirectories(dir);
            fs.forceDirectory(dir.getParent());
        }
        if (!fs.realPath(parent).startsWith(agentReal)) {
            throw new BadPathException("path resolves outside the agent's output directory");
        }
        if (fs.isDirectory(target)) {
            throw new BadPathException("path conflicts with an existing directory");
        }
        boolean existed = fs.key(target) != null;
        if (existed) {
            if (!fs.realPath(target).startsWith(agentReal)) {
                throw new BadPathException("path resolves outside the agent's output directory");
            }
        } else if (existsNoFollow(target)) {
            // A name that is listed but cannot be followed is a dangling symbolic link: opening it
            // would create its target, wherever that is.
            throw new BadPathException("path is a dangling symbolic link");
        }
        return new Target(agentDir, target, existed);
    }

    /** Creates {@code dir} if absent and forces {@code parent} so the new entry survives a crash. */
    void ensureDir(Path dir, Path parent) throws IOException {
        if (!fs.isDirectory(dir)) {
            fs.createDirectories(dir);
            fs.forceDirectory(parent);
        }
    }

    /** True if anything (even a symbolic link to nowhere) has this name. */
    private boolean existsNoFollow(Path p) throws IOException {
        return fs.key(p) != null || fs.list(p.getParent()).contains(p);
    }
}
