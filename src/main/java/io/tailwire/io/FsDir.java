package io.tailwire.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * An open directory, and the entries in it reached by name without following symbolic links: whoever can
 * rename or replace a directory on the way to it cannot redirect what happens inside it. Names are single
 * path segments (no '/', not "." or ".."). On Linux {@link RealFs} implements it with openat and friends;
 * other {@link Fs} implementations (the simulator's, which has no links) by path.
 */
public interface FsDir extends Closeable {
    /** What a name is, not following a symbolic link. */
    enum Kind { ABSENT, FILE, DIRECTORY, LINK, OTHER }

    /** For messages only: the path it was opened by, which may since name another directory. */
    Path path();

    Kind kind(String name) throws IOException;

    /**
     * Opens subdirectory {@code name}; null if nothing has that name. A symbolic link is refused
     * ({@link UnsafeLinkException}), as is anything else that is not a directory.
     */
    FsDir openDir(String name) throws IOException;

    /** Creates subdirectory {@code name} (durable once this directory is forced); false if the name exists. */
    boolean createDir(String name) throws IOException;

    /** Opens a regular file for reading; null if absent; a symbolic link is refused. */
    FsFile openRead(String name) throws IOException;

    /**
     * Opens a regular file for reading and writing, creating it if absent. A symbolic link is refused, and
     * so is a file with more than one hard link: another of its names may be outside this tree.
     */
    FsFile openWrite(String name) throws IOException;

    /** Creates a new regular file for reading and writing; fails if the name exists (even as a link). */
    FsFile createNew(String name) throws IOException;

    /** Key of what has the name (a link's own key); null if absent. */
    FileKey key(String name) throws IOException;

    /** Size of what has the name (a link's own size); -1 if absent. */
    long size(String name) throws IOException;

    /** Names in this directory. */
    List<String> list() throws IOException;

    /** Atomic replace within this directory; a link named {@code to} is replaced, never followed. */
    void rename(String from, String to) throws IOException;

    /** Removes the name if present (a link, never its target). */
    void delete(String name) throws IOException;

    /** Makes this directory's entries (creations, renames) durable. */
    void force() throws IOException;

    @Override
    void close() throws IOException;
}
