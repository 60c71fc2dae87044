package io.tailwire.io;

import java.lang.reflect.Field;
import java.nio.channels.Channel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The descriptor number behind a JDK channel or secure directory stream, read with {@code sun.misc.Unsafe}
 * (the JDK offers no fstat, mkdirat or fd accessor). With it, {@code /proc/self/fd/N} reaches the open file
 * or directory itself, not whatever its path names now: that is fstat ({@code /proc/self/fd/N}) and
 * mkdirat / fstatat without following ({@code /proc/self/fd/N/name}). -1 when this JDK or system does not
 * allow it; callers then fall back to names (a narrow race remains, see {@link SecureDir}).
 */
final class OpenFds {
    static final Path PROC_FD = Path.of("/proc/self/fd");

    private static final Object UNSAFE;
    private static final java.lang.reflect.Method GET_INT;
    private static final java.lang.reflect.Method GET_OBJECT;
    private static final long CHANNEL_FD;
    private static final long DESCRIPTOR_FD;
    private static final long DIR_FD;

    static {
        Object u = null;
        java.lang.reflect.Method gi = null;
        java.lang.reflect.Method go = null;
        long ch = -1;
        long desc = -1;
        long dir = -1;
        try {
            Class<?> uc = Class.forName("sun.misc.Unsafe");
            Field f = uc.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            u = f.get(null);
            java.lang.reflect.Method off = uc.getMethod("objectFieldOffset", Field.class);
            gi = uc.getMethod("getInt", Object.class, long.class);
            go = uc.getMethod("getObject", Object.class, long.class);
            ch = (long) off.invoke(u, Class.forName("sun.nio.ch.FileChannelImpl").getDeclaredField("fd"));
            desc = (long) off.invoke(u, java.io.FileDescriptor.class.getDeclaredField("fd"));
            dir = (long) off.invoke(u, Class.forName("sun.nio.fs.UnixSecureDirectoryStream").getDeclaredField("dfd"));
            if (!Files.isDirectory(PROC_FD)) {
                u = null;
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            u = null;
        }
        UNSAFE = u;
        GET_INT = gi;
        GET_OBJECT = go;
        CHANNEL_FD = ch;
        DESCRIPTOR_FD = desc;
        DIR_FD = dir;
    }

    private OpenFds() {
    }

    static boolean available() {
        return UNSAFE != null;
    }

    /** The descriptor of a FileChannel the JDK opened; -1 if unknown. */
    static int of(Channel channel) {
        if (UNSAFE == null || !channel.getClass().getName().equals("sun.nio.ch.FileChannelImpl")) {
            return -1;
        }
        try {
            Object fdo = GET_OBJECT.invoke(UNSAFE, channel, CHANNEL_FD);
            return fdo == null ? -1 : (int) GET_INT.invoke(UNSAFE, fdo, DESCRIPTOR_FD);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }

    /** The directory descriptor of a secure directory stream; -1 if unknown. */
    static int of(DirectoryStream<?> stream) {
        if (UNSAFE == null || !stream.getClass().getName().equals("sun.nio.fs.UnixSecureDirectoryStream")) {
            return -1;
        }
        try {
            return (int) GET_INT.invoke(UNSAFE, stream, DIR_FD);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }
}
