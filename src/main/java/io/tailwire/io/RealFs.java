package io.tailwire.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The operating system's file system. */
public final class RealFs implements Fs {
    public static final RealFs INSTANCE = new RealFs();

    private RealFs() {
    }

    @Override
    public FsFile openRead(Path path) throws IOException {
        try {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            return new RealFile(ch, keyOrClose(path, ch));
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    @Override
    public FsFile openWrite(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
            StandardOpenOption.CREATE);
        return new RealFile(ch, keyOrClose(path, ch));
    }

    /** The JDK cannot stat an open channel, so the key is read from the path right after opening. */
    private static FileKey keyOrClose(Path path, FileChannel ch) throws IOException {
        try {
            return keyOf(path);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    @Override
    public FileKey key(Path path) throws IOException {
        try {
            return keyOf(path);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    static FileKey keyOf(Path path) throws IOException {
        Object dev = Files.getAttribute(path, "unix:dev");
        Object ino = Files.getAttribute(path, "unix:ino");
        return new FileKey(((Number) dev).longValue(), ((Number) ino).longValue());
    }

    @Override
    public long size(Path path) throws IOException {
        try {
            return Files.size(path);
        } catch (NoSuchFileException e) {
            return -1;
        }
    }

    @Override
    public boolean isDirectory(Path path) {
        return Files.isDirectory(path);
    }

    @Override
    public List<Path> list(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(out::add);
        } catch (NoSuchFileException e) {
            return out;
        }
        return out;
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        Files.createDirectories(dir);
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void delete(Path path) throws IOException {
        Files.deleteIfExists(path);
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** On Linux: by descriptor, never following a link below {@code dir} ({@link SecureDir}). */
    @Override
    public FsDir openDir(Path dir) throws IOException {
        return SecureDir.open(dir);
    }

    @Override
    public Path realPath(Path path) throws IOException {
        try {
            return path.toRealPath();
        } catch (NoSuchFileException e) {
            return path;
        }
    }

    static final class RealFile implements FsFile {
        private final FileChannel channel;
        private final FileKey key;

        RealFile(FileChannel channel, FileKey key) {
            this.channel = channel;
            this.key = key;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return channel.read(dst, position);
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            long p = position;
            while (src.hasRemaining()) {
                p += channel.write(src, p);
            }
        }

        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            channel.truncate(size);
        }

        @Override
        public void force() throws IOException {
            channel.force(false);
        }

        @Override
        public FileKey key() {
            return key;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
