package io.tailwire.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The file system as the agent and server see it. The real implementation is {@link RealFs}; the
 * simulator supplies one where data not yet forced is lost on a crash and the disk can fill up.
 * Paths are plain names here: no method may touch the default file system except through this.
 */
public interface Fs {
    /** Opens for reading; null if the file does not exist. */
    FsFile openRead(Path path) throws IOException;

    /** Opens for reading and writing, creating the file (not its parent directories) if absent. */
    FsFile openWrite(Path path) throws IOException;

    /** Key of the file now at the path, following symbolic links; null if none. */
    FileKey key(Path path) throws IOException;

    /** Size of the file now at the path; -1 if none. */
    long size(Path path) throws IOException;

    boolean isDirectory(Path path);

    /** Entries of a directory (full paths), empty if it does not exist. */
    List<Path> list(Path dir) throws IOException;

    void createDirectories(Path dir) throws IOException;

    /** Atomic replace. */
    void rename(Path from, Path to) throws IOException;

    void delete(Path path) throws IOException;

    /** Makes a directory's entries (creations, renames) durable. */
    void forceDirectory(Path dir) throws IOException;

    /**
     * Opens an existing directory (following links: this is the root the caller trusts, e.g. OUT) to
     * reach what is below it by name only. The default works by path, without protection against links.
     */
    default FsDir openDir(Path dir) throws IOException {
        if (!isDirectory(dir)) {
            throw new java.nio.file.NotDirectoryException(dir.toString());
        }
        return new PathDir(this, dir);
    }

    /** The path with every symbolic link resolved (for containment checks); the path itself if absent. */
    Path realPath(Path path) throws IOException;
}
