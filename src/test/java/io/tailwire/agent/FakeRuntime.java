package io.tailwire.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plays the network runtime for tests: scans, reads every readable head generation, closes heads that
 * are fully read (as if the server confirmed at once), and records what each generation shipped.
 */
final class FakeRuntime {
    final Tailer tailer;
    final List<TailEvent> events;
    /** "path#generation" to the bytes shipped, in the order generations were first read. */
    final Map<String, ByteArrayOutputStream> shipped = new LinkedHashMap<>();
    /** "path#generation:finalLength:previousLength" in close order. */
    final List<String> closedLog = new ArrayList<>();
    /** Order of first reads and closes, to check a path's next generation never ships before. */
    final List<String> log = new ArrayList<>();
    int chunk = 64 * 1024;
    /** When false, nothing is read (a stalled network). */
    boolean reading = true;

    FakeRuntime(Tailer tailer, List<TailEvent> events) {
        this.tailer = tailer;
        this.events = events;
    }

    static String id(Generation g) {
        return g.path() + "#" + g.number();
    }

    boolean step(long now) throws IOException {
        boolean changed = tailer.scan(now);
        if (!reading) {
            return changed;
        }
        ByteBuffer buf = ByteBuffer.allocate(chunk);
        for (Generation g : tailer.readable()) {
            buf.clear();
            int n = tailer.read(g, buf);
            if (n > 0) {
                changed = true;
                ByteArrayOutputStream out = shipped.computeIfAbsent(id(g), k -> {
                    log.add("read " + k);
                    return new ByteArrayOutputStream();
                });
                out.write(buf.array(), 0, n);
            }
        }
        for (Generation g : tailer.shippable()) {
            if (g.fullyRead()) {
                closedLog.add(id(g) + ":" + g.finalLength() + ":" + g.previousLength());
                log.add("closed " + id(g));
                tailer.closed(g);
                changed = true;
            }
        }
        return changed;
    }

    /** Steps from {@code from} to {@code to} (inclusive) every {@code every} nanoseconds. */
    long run(long from, long to, long every) throws IOException {
        long t = from;
        for (; t <= to; t += every) {
            step(t);
        }
        return t;
    }

    byte[] bytes(String path, long generation) {
        ByteArrayOutputStream out = shipped.get(path + "#" + generation);
        return out == null ? new byte[0] : out.toByteArray();
    }

    List<TailEvent> events(TailEvent.Kind kind) {
        List<TailEvent> out = new ArrayList<>();
        for (TailEvent e : events) {
            if (e.kind() == kind) {
                out.add(e);
            }
        }
        return out;
    }
}
