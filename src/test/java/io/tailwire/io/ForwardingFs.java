package io.tailwire.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * For tests that break one thing in a file system: every call goes to the wrapped one; override what the
 * test changes ({@link #wrap} to change open files).
 */
public class ForwardingFs implements Fs {
    protected final Fs fs;

    public ForwardingFs(Fs fs) {
        this.fs = fs;
    }

    /** The file handed out by openRead/openWrite; the default is the wrapped file itself. */
    protected FsFile wrap(FsFile f) {
        return f;
    }

    @Override
    public FsFile openRead(Path path) throws IOException {
        FsFile f = fs.openRead(path);
        return f == null ? null : wrap(f);
    }

    @Override
    public FsFile openWrite(Path path) throws IOException {
        return wrap(fs.openWrite(path));
    }

    @Override
    public FileKey key(Path path) throws IOException {
        return fs.key(path);
    }

    @Override
    public long size(Path path) throws IOException {
        return fs.size(path);
    }

    @Override
    public boolean isDirectory(Path path) {
        return fs.isDirectory(path);
    }

    @Override
    public List<Path> list(Path dir) throws IOException {
        return fs.list(dir);
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        fs.createDirectories(dir);
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        fs.rename(from, to);
    }

    @Override
    public void delete(Path path) throws IOException {
        fs.delete(path);
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        fs.forceDirectory(dir);
    }

    @Override
    public Path realPath(Path path) throws IOException {
        return fs.realPath(path);
    }

    /** A file whose calls all go to the wrapped one. */
    public static class ForwardingFile implements FsFile {
        protected final FsFile f;

        public ForwardingFile(FsFile f) {
            this.f = f;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return f.read(dst, position);
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            f.write(src, position);
        }

        @Override
        public long size() throws IOException {
            return f.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            f.truncate(size);
        }

        @Override
        public void force() throws IOException {
            f.force();
        }

        @Override
        public FileKey key() throws IOException {
            return f.key();
        }

        @Override
        public void close() throws IOException {
            f.close();
        }
    }
}
