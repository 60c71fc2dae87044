package io.tailwire.sim;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * Append-only log of what happened, with a running SHA-256 over every event so two runs can be compared
 * by one value, and the last N events kept to print around a failure.
 */
public final class Trace {
    private final MessageDigest digest;
    private final String[] ring;
    private long count;
    private Consumer<String> echo;

    public Trace(int ringSize) {
        if (ringSize < 1) {
            throw new IllegalArgumentException("ringSize " + ringSize);
        }
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        ring = new String[ringSize];
    }

    public Trace() {
        this(256);
    }

    /** Also passes every formatted event to sink (e.g. System.out::println while debugging); null stops. */
    public void setEcho(Consumer<String> sink) {
        this.echo = sink;
    }

    public void record(long time, String node, String event) {
        String line = format(time, node, event);
        // Length-prefixed so "a" + "bc" and "ab" + "c" never hash alike.
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        digest.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8),
            (byte) b.length});
        digest.update(b);
        ring[(int) (count % ring.length)] = line;
        count++;
        if (echo != null) {
            echo.accept(line);
        }
    }

    static String format(long time, String node, String event) {
        return String.format("%d.%09d %s %s", time / 1_000_000_000L, Math.floorMod(time, 1_000_000_000L), node,
            event);
    }

    public long count() {
        return count;
    }

    /** SHA-256 of all events so far, hex; recording may continue afterwards. */
    public String hashHex() {
        try {
            MessageDigest copy = (MessageDigest) digest.clone();
            return HexFormat.of().formatHex(copy.digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The last min(count, ringSize) events, oldest first. */
    public List<String> tail() {
        int n = (int) Math.min(count, ring.length);
        List<String> out = new ArrayList<>(n);
        for (long i = count - n; i < count; i++) {
            out.add(ring[(int) (i % ring.length)]);
        }
        return out;
    }

    /** The tail as one string, one event per line, for failure messages. */
    public String dumpTail() {
        StringBuilder sb = new StringBuilder();
        sb.append("last ").append(Math.min(count, ring.length)).append(" of ").append(count).append(" events:\n");
        for (String s : tail()) {
            sb.append("  ").append(s).append('\n');
        }
        return sb.toString();
    }
}
