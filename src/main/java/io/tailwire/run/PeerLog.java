package io.tailwire.run;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the server logs about what peers send (issue 13 item 11): peer-supplied text escaped, so a path with a
 * newline cannot forge a log line, and each peer's warnings rate-limited, with a count of what was left out.
 * One thread (the engine's) uses an instance; times are the caller's clock.
 */
final class PeerLog {
    /** Warnings per peer per window before the rest are only counted: 10 tell the story, 156k lines did not. */
    static final int WARNINGS_PER_WINDOW = 10;
    /** The window: 10 s, so a persistent problem shows a line (or a count) every 10 s. */
    static final long WINDOW_NS = 10_000_000_000L;
    /** Peers tracked at once; beyond, finished windows are summarised and forgotten first. */
    static final int MAX_PEERS = 4096;

    private static final class Window {
        long startNs;
        int logged;
        long suppressed;

        Window(long startNs) {
            this.startNs = startNs;
        }
    }

    private final Map<String, Window> peers = new HashMap<>();
    private final Consumer<String> out;

    PeerLog(Consumer<String> out) {
        this.out = out;
    }

    /**
     * Peer-supplied text as one printable line: control characters (C0, DEL, C1), line and paragraph
     * separators, bidirectional overrides and the backslash itself come out as escapes.
     */
    static String escape(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String e = c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
                : c < 0x20 || (c >= 0x7F && c < 0xA0) || c == '\u2028' || c == '\u2029'
                    || (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069')
                    ? String.format("\\u%04x", (int) c) : null;
            if (e != null && b == null) {
                b = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (b != null) {
                if (e != null) {
                    b.append(e);
                } else {
                    b.append(c);
                }
            }
        }
        return b == null ? s : b.toString();
    }

    /** Logs {@code line} (already escaped) unless {@code peer} used up its warnings for this window. */
    void warn(String peer, String line, long nowNs) {
        Window w = peers.get(peer);
        if (w != null && nowNs - w.startNs >= WINDOW_NS) {
            peers.remove(peer);
            summarize(peer, w);
            w = null;
        }
        if (w == null) {
            if (peers.size() >= MAX_PEERS) {
                flush(nowNs);
            }
            w = new Window(nowNs);
            if (peers.size() < MAX_PEERS) {
                peers.put(peer, w);
            }
        }
        if (w.logged < WARNINGS_PER_WINDOW) {
            w.logged++;
            out.accept(line);
            if (w.logged == WARNINGS_PER_WINDOW) {
                out.accept(escape(peer) + ": " + WARNINGS_PER_WINDOW + " warnings in " + WINDOW_NS / 1_000_000_000L
                    + " s; more from it are counted, not logged, until the period ends");
            }
        } else {
            w.suppressed++;
        }
    }

    /** Ends every finished window, logging how many warnings it left out. Call now and then (e.g. once a second). */
    void flush(long nowNs) {
        for (Iterator<Map.Entry<String, Window>> it = peers.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Window> e = it.next();
            if (nowNs - e.getValue().startNs >= WINDOW_NS) {
                it.remove();
                summarize(e.getKey(), e.getValue());
            }
        }
    }

    private void summarize(String peer, Window w) {
        if (w.suppressed > 0) {
            out.accept(escape(peer) + ": " + w.suppressed + " more warnings in the last "
                + WINDOW_NS / 1_000_000_000L + " s were not logged");
        }
    }
}
