package io.tailwire.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@link FsDir} on an open directory descriptor (Linux): files are opened with openat and O_NOFOLLOW
 * through a {@link SecureDirectoryStream}, subdirectories likewise, so a symbolic link or a renamed
 * directory on the way cannot redirect them (issue 13 item 10). The JDK has no mkdirat or fstat:
 * {@link OpenFds} supplies them through {@code /proc/self/fd}. Without it (another JDK), directories are
 * created by path and re-opened without following links, and a file's links are counted by name right
 * after opening: a race narrower than the old check-then-open, not closed.
 */
final class SecureDir implements FsDir {
    private static final int S_IFMT = 0170000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFLNK = 0120000;
    private static final String STAT = "unix:mode,dev,ino,nlink,size";

    private final SecureDirectoryStream<Path> dir;
    private final Path path;
    /** This directory's descriptor for {@code /proc/self/fd/N/name}; -1: use {@link #path} (weaker). */
    private final int fd;

    private SecureDir(SecureDirectoryStream<Path> dir, Path path) {
        this.dir = dir;
        this.path = path;
        this.fd = OpenFds.of(dir);
    }

    static SecureDir open(Path path) throws IOException {
        DirectoryStream<Path> ds = Files.newDirectoryStream(path);
        if (!(ds instanceof SecureDirectoryStream<Path> sds)) {
            ds.close();
            throw new IOException("this platform cannot open files relative to a directory (openat);"
                + " the server needs it to keep links from redirecting writes out of " + path);
        }
        return new SecureDir(sds, path);
    }

    @Override
    public Path path() {
        return path;
    }

    /** Where {@code name} is reached from: this open directory itself when its descriptor is known. */
    private Path at(String name) {
        return fd >= 0 ? OpenFds.PROC_FD.resolve(Integer.toString(fd)).resolve(name) : path.resolve(name);
    }

    private static Path rel(String name) {
        if (name.isEmpty() || name.indexOf('/') >= 0 || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("not a single name: " + name);
        }
        return Path.of(name);
    }

    /** lstat; null if absent. */
    private Map<String, Object> stat(String name) throws IOException {
        rel(name);
        try {
            return Files.readAttributes(at(name), STAT, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static Kind kindOf(Map<String, Object> st) {
        if (st == null) {
            return Kind.ABSENT;
        }
        int type = ((Number) st.get("mode")).intValue() & S_IFMT;
        return type == S_IFREG ? Kind.FILE : type == S_IFDIR ? Kind.DIRECTORY : type == S_IFLNK ? Kind.LINK
            : Kind.OTHER;
    }

    private static FileKey keyOf(Map<String, Object> st) {
        return new FileKey(((Number) st.get("dev")).longValue(), ((Number) st.get("ino")).longValue());
    }

    @Override
    public Kind kind(String name) throws IOException {
        return kindOf(stat(name));
    }

    @Override
    public FsDir openDir(String name) throws IOException {
        // Checked first so a FIFO is never opened (that would block); the open itself does not follow.
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
        try {
            return new SecureDir(dir.newDirectoryStream(rel(name), LinkOption.NOFOLLOW_LINKS),
                path.resolve(name));
        } catch (NoSuchFileException e) {
            return null;
        } catch (NotDirectoryException e) {
            throw e;
        } catch (FileSystemException e) {
            // ELOOP: replaced by a link since the check.
            throw new UnsafeLinkException(path.resolve(name) + " is not a directory one can open without"
                + " following a link: " + e.getReason());
        }
    }

    @Override
    public boolean createDir(String name) throws IOException {
        try {
            Files.createDirectory(at(rel(name).toString()));
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return false;
        }
    }

    @Override
    public FsFile openRead(String name) throws IOException {
        Kind k = kind(name);
        if (k == Kind.ABSENT) {
            return null;
        }
        refuseUnlessFile(name, k);
        try {
            return opened(name, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS), false);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    @Override
    public FsFile openWrite(String name) throws IOException {
        refuseUnlessFile(name, kind(name));
        return opened(name, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
            LinkOption.NOFOLLOW_LINKS), true);
    }

    @Override
    public FsFile createNew(String name) throws IOException {
        return opened(name, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE,
            StandardOpenOption.CREATE_NEW, LinkOption.NOFOLLOW_LINKS), true);
    }

    private void refuseUnlessFile(String name, Kind k) throws IOException {
        if (k == Kind.LINK) {
            throw new UnsafeLinkException(path.resolve(name) + " is a symbolic link");
        }
        if (k == Kind.DIRECTORY || k == Kind.OTHER) {
            throw new FileSystemException(path.resolve(name).toString(), null, "not a regular file");
        }
    }

    /** Opens without following; checks what was opened (type, links) on the descriptor itself. */
    private FsFile opened(String name, Set<OpenOption> options, boolean forWriting) throws IOException {
        SeekableByteChannel sbc;
        try {
            sbc = dir.newByteChannel(rel(name), options);
        } catch (NoSuchFileException | java.nio.file.FileAlreadyExistsException e) {
            throw e;
        } catch (FileSystemException e) {
            if (kind(name) == Kind.LINK) {
                throw new UnsafeLinkException(path.resolve(name) + " is a symbolic link");
            }
            throw e;
        }
        FileChannel ch = (FileChannel) sbc;
        try {
            int n = OpenFds.of(ch);
            Map<String, Object> st = n >= 0
                ? Files.readAttributes(OpenFds.PROC_FD.resolve(Integer.toString(n)), STAT)
                : stat(name);
            if (st == null || kindOf(st) != Kind.FILE) {
                throw new FileSystemException(path.resolve(name).toString(), null, "not a regular file");
            }
            long links = ((Number) st.get("nlink")).longValue();
            if (forWriting && links > 1) {
                throw new UnsafeLinkException(path.resolve(name) + " has " + links
                    + " hard links; another name may be outside the output directory");
            }
            return new RealFs.RealFile(ch, keyOf(st));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    @Override
    public FileKey key(String name) throws IOException {
        Map<String, Object> st = stat(name);
        return st == null ? null : keyOf(st);
    }

    @Override
    public long size(String name) throws IOException {
        Map<String, Object> st = stat(name);
        return st == null ? -1 : ((Number) st.get("size")).longValue();
    }

    @Override
    public List<String> list() throws IOException {
        List<String> names = new ArrayList<>();
        // A stream's iterator runs once: a fresh stream on "." (this directory, by descriptor) per listing.
        try (DirectoryStream<Path> ds = dir.newDirectoryStream(Path.of("."), LinkOption.NOFOLLOW_LINKS)) {
            for (Path p : ds) {
                names.add(p.getFileName().toString());
            }
        }
        return names;
    }

    @Override
    public void rename(String from, String to) throws IOException {
        dir.move(rel(from), dir, rel(to));
    }

    @Override
    public void delete(String name) throws IOException {
        try {
            dir.deleteFile(rel(name));
        } catch (NoSuchFileException e) {
            // already absent
        }
    }

    @Override
    public void force() throws IOException {
        try (SeekableByteChannel ch = dir.newByteChannel(Path.of("."),
            Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            ((FileChannel) ch).force(true);
        }
    }

    @Override
    public void close() throws IOException {
        dir.close();
    }
}
