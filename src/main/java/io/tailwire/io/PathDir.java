package io.tailwire.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link FsDir} by path over any {@link Fs}: the default for file systems without symbolic links (the
 * simulator's) and for test wrappers that inject faults. Gives no protection against links or renames.
 */
final class PathDir implements FsDir {
    private final Fs fs;
    private final Path path;

    PathDir(Fs fs, Path path) {
        this.fs = fs;
        this.path = path;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public Kind kind(String name) throws IOException {
        Path p = path.resolve(name);
        if (fs.isDirectory(p)) {
            return Kind.DIRECTORY;
        }
        if (fs.key(p) != null) {
            return Kind.FILE;
        }
        return fs.list(path).contains(p) ? Kind.LINK : Kind.ABSENT; // listed but not followable: dangling
    }

    @Override
    public FsDir openDir(String name) throws IOException {
        Kind k = kind(name);
        if (k == Kind.ABSENT) {
            return null;
        }
        if (k == Kind.LINK) {
            throw new UnsafeLinkException(path.resolve(name) + " is a symbolic link");
        }
        if (k != Kind.DIRECTORY) {
            throw new NotDirectoryException(path.resolve(name).toString());
        }
        return new PathDir(fs, path.resolve(name));
    }

    @Override
    public boolean createDir(String name) throws IOException {
        if (kind(name) != Kind.ABSENT) {
            return false;
        }
        fs.createDirectories(path.resolve(name));
        return true;
    }

    @Override
    public FsFile openRead(String name) throws IOException {
        return fs.openRead(path.resolve(name));
    }

    @Override
    public FsFile openWrite(String name) throws IOException {
        return fs.openWrite(path.resolve(name));
    }

    @Override
    public FsFile createNew(String name) throws IOException {
        if (kind(name) != Kind.ABSENT) {
            throw new FileAlreadyExistsException(path.resolve(name).toString());
        }
        return fs.openWrite(path.resolve(name));
    }

    @Override
    public FileKey key(String name) throws IOException {
        return fs.key(path.resolve(name));
    }

    @Override
    public long size(String name) throws IOException {
        return fs.size(path.resolve(name));
    }

    @Override
    public List<String> list() throws IOException {
        List<String> names = new ArrayList<>();
        for (Path p : fs.list(path)) {
            names.add(p.getFileName().toString());
        }
        return names;
    }

    @Override
    public void rename(String from, String to) throws IOException {
        fs.rename(path.resolve(from), path.resolve(to));
    }

    @Override
    public void delete(String name) throws IOException {
        fs.delete(path.resolve(name));
    }

    @Override
    public void force() throws IOException {
        fs.forceDirectory(path);
    }

    @Override
    public void close() {
    }
}
