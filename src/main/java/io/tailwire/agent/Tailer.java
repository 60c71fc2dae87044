package io.tailwire.agent;

import io.tailwire.agent.Generation.State;
import io.tailwire.agent.TailEvent.Kind;
import io.tailwire.io.FileKey;
import io.tailwire.io.Fs;
import io.tailwire.io.FsFile;
import io.tailwire.proto.AgentState;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.TrackedFile;
import io.tailwire.proto.UnsentLoss;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The agent's file side: finds the configured files, follows them across rotation (rename+create,
 * copytruncate, truncation, deletion, inode reuse) and hands out their bytes one generation at a time.
 * Single-threaded and clock-free: every time is the {@code now} passed in, every file access goes
 * through {@link Fs}, so the simulator can drive it in virtual time.
 *
 * <p>Per path, generations form a queue: only the head ({@link #currentShippable}) may be shipped; the
 * next one becomes the head when the runtime reports the head's stream closed ({@link #closed}).
 */
public final class Tailer implements Closeable {
    /** Bumped whenever a path or a generation is added or removed: invalidates {@link #shippable()}. */
    private int headsVersion;
    private int shippableVersion = -1;
    private List<Generation> shippable = List.of();
    /**
     * An unchanged size is re-checked against the fingerprint this often, so content rewritten to the
     * very same length (copytruncate, then exactly as many bytes) is still noticed.
     */
    static final long VERIFY_INTERVAL_NANOS = 1_000_000_000L;
    private final Fs fs;
    private final TailerConfig config;
    private final Consumer<TailEvent> events;
    private final Map<String, PathTrack> tracks = new LinkedHashMap<>();
    private final List<Glob> globs = new ArrayList<>();
    private final ByteBuffer scratch = ByteBuffer.allocate(FileIdentities.FINGERPRINT_MAX);
    /**
     * Files already shipped under another path (a rotated file). A glob that also matches rotated names
     * (app.log*) must not ship them a second time as new paths.
     */
    private final Map<FileKey, TrackedFile> claimed = new HashMap<>();
    /** Per glob pattern: a walk that keeps failing is logged when it starts and when it ends. */
    private final Map<String, LoggedCondition> globErrors = new HashMap<>();
    private long lastDiscovery;
    private boolean discovered;
    private long readSeq;

    private record Glob(String pattern, PathMatcher matcher, Path root, int depth) {
    }

    public Tailer(Fs fs, TailerConfig config, Consumer<TailEvent> events) {
        this.fs = fs;
        this.config = config;
        this.events = events;
        for (String p : config.explicitPaths()) {
            Path path = Path.of(p);
            tracks.putIfAbsent(path.toString(), new PathTrack(path, true, false));
            headsVersion++;
        }
        for (String g : config.globs()) {
            globs.add(compile(g, config.maxGlobDepth()));
        }
    }

    private static Glob compile(String pattern, int maxDepth) {
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        String[] segs = pattern.substring(1).split("/");
        StringBuilder root = new StringBuilder();
        int i = 0;
        for (; i < segs.length - 1 && !TailerConfig.isGlob(segs[i]); i++) {
            root.append('/').append(segs[i]);
        }
        boolean deep = pattern.contains("**");
        // Directory levels to descend below the root: the remaining segments less the file name.
        int depth = deep ? maxDepth : segs.length - 1 - i;
        return new Glob(pattern, m, Path.of(root.length() == 0 ? "/" : root.toString()), depth);
    }

    // ------------------------------------------------------------------------------------------ scan

    /**
     * Discovers new files (at most every discovery interval) and checks every known one. Returns true
     * if anything changed (new bytes, new files, rotations, finished generations): poll again soon.
     */
    public boolean scan(long now) {
        boolean changed = false;
        if (!globs.isEmpty() && (!discovered || now - lastDiscovery >= config.discoveryIntervalNanos())) {
            discovered = true;
            lastDiscovery = now;
            changed |= discover();
        }
        for (PathTrack t : tracks.values()) {
            if (t.error == null) {
                t.error = condition(t.name);
            }
            try {
                changed |= scanTrack(t, now);
                t.error.clear(now);
            } catch (IOException e) {
                t.error.on("cannot read: " + LoggedCondition.describe(e), now);
            }
        }
        changed |= enforceHandleLimit();
        return changed;
    }

    private boolean discover() {
        Set<FileKey> live = new HashSet<>();
        for (PathTrack t : tracks.values()) {
            for (Generation g : t.gens) {
                if (g.handle != null) {
                    live.add(g.heldKey());
                }
            }
        }
        Set<FileKey> seenClaimed = new HashSet<>();
        boolean changed = false;
        boolean complete = true;
        for (Glob g : globs) {
            LoggedCondition error = globErrors.computeIfAbsent(g.pattern, this::condition);
            try {
                changed |= walk(g, g.root, g.depth, live, seenClaimed);
                error.clear(lastDiscovery);
            } catch (IOException e) {
                complete = false;
                String where = e instanceof FileSystemException f && f.getFile() != null ? " " + f.getFile() : "";
                error.on("cannot list" + where + ": " + LoggedCondition.describe(e), lastDiscovery);
            }
        }
        // A claimed file no longer seen by any glob cannot be picked up again: forget it (only after a
        // complete walk, or a file the failed walk missed would be shipped again next time).
        if (complete) {
            claimed.keySet().retainAll(seenClaimed);
        }
        return changed;
    }

    /** A lasting error about {@code subject} (a path or a glob) becomes one ERROR event and one RECOVERED event. */
    private LoggedCondition condition(String subject) {
        return new LoggedCondition(null, m -> events.accept(TailEvent.ofPath(Kind.ERROR, subject, m)),
            m -> events.accept(TailEvent.ofPath(Kind.RECOVERED, subject, m)));
    }

    private boolean walk(Glob g, Path dir, int depth, Set<FileKey> live, Set<FileKey> seenClaimed)
        throws IOException {
        List<Path> entries = new ArrayList<>(fs.list(dir));
        entries.sort(null);
        boolean changed = false;
        for (Path e : entries) {
            if (fs.isDirectory(e)) {
                if (depth > 0) {
                    changed |= walk(g, e, depth - 1, live, seenClaimed);
                }
                continue;
            }
            String name = e.toString();
            if (!g.matcher.matches(e)) {
                continue;
            }
            PathTrack existing = tracks.get(name);
            if (existing != null) {
                existing.wanted = true;
                continue;
            }
            FileKey key = fs.key(e);
            if (key == null || live.contains(key)) {
                continue;
            }
            TrackedFile c = claimed.get(key);
            if (c != null && sameContent(e, c.getIdentity())) {
                seenClaimed.add(key);
                continue;
            }
            if (copyOfKnownGeneration(e, key, seenClaimed)) {
                continue;
            }
            tracks.put(name, new PathTrack(e, true, false));
            headsVersion++;
            changed = true;
        }
        return changed;
    }

    /**
     * Whether {@code p}, matched by a glob, is the copy copytruncate made of a generation this tailer ships or
     * shipped under its own path (a rotated name of that path, same directory, the generation's first bytes):
     * its bytes are that generation's and must not ship a second time as a path of their own. A copy of a
     * closed generation is claimed like a renamed file; one of a generation still queued is skipped only,
     * since {@link #truncated} may yet read the rest of the generation from it.
     */
    private boolean copyOfKnownGeneration(Path p, FileKey key, Set<FileKey> seenClaimed) throws IOException {
        for (PathTrack t : tracks.values()) {
            if (!isRotatedName(t.path, p)) {
                continue;
            }
            try (FsFile f = fs.openRead(p)) {
                if (f == null || !key.equals(f.key())) {
                    return false;
                }
                for (Generation g : t.gens) {
                    if (g.identity.getFingerprintLength() > 0 && FileIdentities.prefixMatches(f, g.identity, scratch)) {
                        return true;
                    }
                }
                FileIdentity closed = t.lastClosedIdentity;
                if (closed != null && closed.getFingerprintLength() > 0
                    && FileIdentities.prefixMatches(f, closed, scratch)) {
                    claimed.put(key, TrackedFile.newBuilder().setPath(t.name).setGeneration(t.lastClosedNumber)
                        .setIdentity(withKey(closed, key)).setDurableOffset(t.lastClosedFinal)
                        .setReadOffset(t.lastClosedFinal).setFinished(true).build());
                    seenClaimed.add(key);
                    return true;
                }
            }
        }
        return false;
    }

    private static FileIdentity withKey(FileIdentity id, FileKey key) {
        return id.toBuilder().setDevice(key.device()).setInode(key.inode()).build();
    }

    /**
     * A rotated name of {@code path}: same directory, the path's file name followed by '.', '-' or '_' and more
     * (app.log.1, app.log-20240101, app.log_old), and not a path this tailer tails itself.
     */
    private boolean isRotatedName(Path path, Path c) {
        if (c.getParent() == null || !c.getParent().equals(path.getParent())) {
            return false;
        }
        String base = path.getFileName().toString();
        String name = c.getFileName().toString();
        return name.length() > base.length() + 1 && name.startsWith(base) && ".-_".indexOf(name.charAt(base.length())) >= 0
            && !tracks.containsKey(c.toString());
    }

    private record Copy(Path path, FsFile handle, FileKey key, long size) {
    }

    /**
     * The copy copytruncate made of a generation whose own file was truncated (or is gone): among the rotated
     * names of the path, a file other than {@code exclude} whose first bytes match {@code id} and that holds at
     * least {@code minSize} bytes; the largest if several do. Null if none does: the bytes are gone.
     */
    private Copy findCopy(PathTrack t, FileIdentity id, FileKey exclude, long minSize) throws IOException {
        Path dir = t.path.getParent();
        if (dir == null || id.getFingerprintLength() == 0) {
            return null; // an empty fingerprint matches anything: no file can be told to be this one's copy
        }
        List<Path> siblings = new ArrayList<>(fs.list(dir));
        siblings.sort(null);
        Copy best = null;
        for (Path c : siblings) {
            FileKey k = isRotatedName(t.path, c) ? fs.key(c) : null;
            if (k == null || k.equals(exclude) || heldElsewhere(k)) {
                continue;
            }
            FsFile h = fs.openRead(c);
            if (h == null) {
                continue;
            }
            long size = h.size();
            if (k.equals(h.key()) && size >= minSize && (best == null || size > best.size())
                && FileIdentities.prefixMatches(h, id, scratch)) {
                if (best != null) {
                    best.handle().close();
                }
                best = new Copy(c, h, k, size);
            } else {
                h.close();
            }
        }
        return best;
    }

    /** A file some generation is reading already (a renamed one, or a copy adopted before). */
    private boolean heldElsewhere(FileKey k) {
        for (PathTrack t : tracks.values()) {
            for (Generation g : t.gens) {
                if (g.handle != null && g.heldKey().equals(k)) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean sameContent(Path p, FileIdentity id) throws IOException {
        try (FsFile f = fs.openRead(p)) {
            return f != null && FileIdentities.prefixMatches(f, id, scratch);
        }
    }

    private boolean scanTrack(PathTrack t, long now) throws IOException {
        boolean changed = false;
        for (Generation g : new ArrayList<>(t.gens)) { // a truncated rotated file inserts a generation
            if (g.state == State.ROTATED) {
                changed |= checkRotated(g, now);
            }
        }
        FileKey key = fs.key(t.path);
        Generation cur = t.active();
        if (cur != null) {
            if (key == null) {
                cur.state = State.ROTATED;
                cur.rotatedAtNanos = now;
                cur.lastChangeNanos = now;
                events.accept(TailEvent.of(Kind.DELETION, cur, "path gone; reading the open file to its end"));
                verifyLeftPath(cur, now);
                return true;
            }
            if (!key.equals(cur.key)) {
                cur.state = State.ROTATED;
                cur.rotatedAtNanos = now;
                cur.lastChangeNanos = now;
                events.accept(TailEvent.of(Kind.ROTATION, cur, "another file is at the path"));
                verifyLeftPath(cur, now);
                changed = true;
            } else {
                return checkActive(cur, now) | changed;
            }
        }
        if (key == null || !t.wanted) {
            return changed;
        }
        for (Generation g : t.gens) {
            if (g.handle != null && g.heldKey().equals(key)) {
                // The file we still hold came back to the path (renamed back, or restored from state):
                // it is not a new generation.
                if (g == t.gens.peekLast() && g.state == State.ROTATED) {
                    g.state = State.ACTIVE;
                    events.accept(TailEvent.of(Kind.ROTATION, g, "file is back at the path"));
                    return true;
                }
                return changed;
            }
        }
        return openNew(t, key, now, "new file") | changed;
    }

    private boolean openNew(PathTrack t, FileKey key, long now, String why) throws IOException {
        FsFile h = fs.openRead(t.path);
        if (h == null) {
            return false;
        }
        if (!key.equals(h.key())) {
            // Replaced between stat and open: try again on the next scan rather than guess.
            h.close();
            return false;
        }
        FileIdentity id;
        long size;
        try {
            id = FileIdentities.of(h, scratch);
            size = h.size();
        } catch (IOException e) {
            h.close();
            throw e;
        }
        Generation g = new Generation(t, t.nextNumber++, id, h, State.ACTIVE, now);
        g.size = size;
        g.numberConfirmed = t.confirmed;
        Generation prev = t.gens.peekLast();
        g.previousLength = prev == null ? t.lastClosedFinal : Math.max(0, prev.finalLength);
        t.gens.addLast(g);
        headsVersion++;
        events.accept(TailEvent.of(Kind.NEW_FILE, g, why));
        return true;
    }

    private boolean checkActive(Generation g, long now) throws IOException {
        long sz = g.handle.size();
        if (g.suspect || sz < g.readOffset || sz < g.size) {
            truncated(g, now);
            return true;
        }
        // A fingerprint shorter than the file (a generation restored from state, or one whose growth a read saw
        // before a scan did) is completed now: the runtime ships a generation's first KiB only once it is covered.
        boolean fingerprintShort = g.identity.getFingerprintLength() < Math.min(sz, FileIdentities.FINGERPRINT_MAX);
        if (sz == g.size && !fingerprintShort && now - g.lastVerifyNanos < VERIFY_INTERVAL_NANOS) {
            return false;
        }
        g.lastVerifyNanos = now;
        // Growth is only ours if the first bytes are unchanged: a truncation that regrew past the old
        // length between two scans must not count the new bytes as this generation's (or as lost).
        if (!FileIdentities.prefixMatches(g.handle, g.identity, scratch)) {
            truncated(g, now);
            return true;
        }
        if (fingerprintShort) {
            g.identity = FileIdentities.of(g.handle, scratch);
        }
        if (sz == g.size) {
            return fingerprintShort;
        }
        g.size = sz;
        g.lastChangeNanos = now;
        return true;
    }

    /**
     * Same file, content shrunk or rewritten, and a new generation starts at offset 0 of the same file. If
     * copytruncate left a copy of the old content beside it (app.log.1), the rest of the generation is read
     * from the copy, as if the file had been renamed there; otherwise the generation ends at what was read and
     * the unread bytes that were there are lost.
     */
    private void truncated(Generation g, long now) throws IOException {
        PathTrack t = g.track;
        FsFile h = g.handle;
        g.handle = null;
        g.suspect = false;
        Copy copy = findCopy(t, g.identity, g.key, g.readOffset);
        if (copy == null) {
            events.accept(TailEvent.of(Kind.TRUNCATION, g, "file shrank or its first bytes changed"));
            endAt(g, g.readOffset, "truncated before read");
        } else {
            events.accept(TailEvent.of(Kind.TRUNCATION, g, "file shrank or its first bytes changed; the rest is"
                + " read from its copy " + copy.path()));
            readFromCopy(g, copy, now);
        }
        FileIdentity id = FileIdentities.of(h, scratch);
        Generation n = new Generation(t, t.nextNumber++, id, h, State.ACTIVE, now);
        n.size = h.size();
        n.numberConfirmed = t.confirmed;
        n.previousLength = g.finalLength;
        t.gens.addLast(n);
        headsVersion++;
        events.accept(TailEvent.of(Kind.NEW_FILE, n, "same file after truncation"));
    }

    /**
     * The rest of the generation is read from the copy copytruncate made: it is treated like a file rotated
     * there (read to its end, then the grace period). Bytes seen that the copy does not hold are lost.
     */
    private void readFromCopy(Generation g, Copy copy, long now) {
        g.handle = copy.handle();
        g.copyKey = copy.key();
        g.state = State.ROTATED;
        g.rotatedAtNanos = now;
        g.lastChangeNanos = now;
        g.lastVerifyNanos = now;
        if (copy.size() < g.size) {
            endAt(g, copy.size(), "not in the copy " + copy.path());
        } else {
            g.size = copy.size();
        }
    }

    /** Ends a generation at {@code len}; bytes seen beyond it are reported lost. */
    private void endAt(Generation g, long len, String lossReason) {
        if (g.size > len) {
            events.accept(TailEvent.loss(g, len, g.size, lossReason));
        }
        g.state = State.ENDED;
        g.finalLength = len;
        g.size = Math.max(g.size, len);
        events.accept(TailEvent.finished(g, len, "final length known"));
        Generation next = nextOf(g);
        if (next != null) {
            next.previousLength = len;
        }
    }

    private static Generation nextOf(Generation g) {
        Iterator<Generation> it = g.track.gens.iterator();
        while (it.hasNext()) {
            if (it.next() == g) {
                return it.hasNext() ? it.next() : null;
            }
        }
        return null;
    }

    /**
     * A file that just left its path may have been rewritten to the very length we last saw (copytruncate,
     * the same number of bytes again, then a rename or delete, all between two scans): only its first bytes
     * tell, and it is about to be read to its end, so they are checked now rather than on the periodic
     * verify (found by TailerPropertyTest: the new bytes were neither shipped nor reported lost).
     */
    private void verifyLeftPath(Generation g, long now) throws IOException {
        if (g.handle != null && !g.suspect && g.handle.size() >= g.size
            && !FileIdentities.prefixMatches(g.handle, g.identity, scratch)) {
            rotatedTruncated(g, now);
        }
    }

    private boolean checkRotated(Generation g, long now) throws IOException {
        long sz = g.handle.size();
        if (g.copyKey != null && (g.suspect || sz < g.readOffset || sz < g.size
            || (sz > g.size && !FileIdentities.prefixMatches(g.handle, g.identity, scratch)))) {
            // The copy changed (or the server already holds more than it has): unlike the generation's own file,
            // its new content is nobody's next generation. The generation ends at what was read.
            FsFile h = g.handle;
            g.handle = null;
            h.close();
            endAt(g, g.readOffset, "its copy changed before it was read");
            return true;
        }
        if (g.suspect || sz < g.readOffset || sz < g.size
            || (sz > g.size && !FileIdentities.prefixMatches(g.handle, g.identity, scratch))) {
            rotatedTruncated(g, now);
            return true;
        }
        if (sz > g.size) {
            g.size = sz;
            g.lastChangeNanos = now;
            return true;
        }
        // The writer may still append briefly after a rotation: wait out the grace period at EOF.
        if (g.readOffset >= sz && now - g.lastChangeNanos >= config.rotationGraceNanos()) {
            endAt(g, sz, "rotated file read to its end");
            return true;
        }
        return false;
    }

    /**
     * A rotated (or deleted) file was truncated or rewritten before we saw it at the path (copytruncate,
     * then a rename, between two scans): its new content is a generation of its own, shipped after this
     * one and before the generations already queued behind it (none of which can have been opened yet,
     * as this one is not finished), which are renumbered one up.
     */
    private void rotatedTruncated(Generation g, long now) throws IOException {
        PathTrack t = g.track;
        FsFile h = g.handle;
        g.handle = null;
        events.accept(TailEvent.of(Kind.TRUNCATION, g, "rotated file shrank or its first bytes changed"));
        endAt(g, g.readOffset, "truncated before read");
        Generation n = new Generation(t, g.number + 1, FileIdentities.of(h, scratch), h, State.ROTATED, now);
        n.size = h.size();
        n.rotatedAtNanos = now;
        n.numberConfirmed = g.numberConfirmed;
        n.previousLength = g.finalLength;
        List<Generation> all = new ArrayList<>(t.gens);
        int at = all.indexOf(g) + 1;
        for (int i = at; i < all.size(); i++) {
            all.get(i).number++;
        }
        all.add(at, n);
        t.gens.clear();
        t.gens.addAll(all);
        headsVersion++;
        t.nextNumber++;
        events.accept(TailEvent.of(Kind.NEW_FILE, n, "rotated file after truncation"));
    }

    /** Bounds open handles of rotated or ended generations; the oldest go first. */
    private boolean enforceHandleLimit() {
        List<Generation> held = new ArrayList<>();
        for (PathTrack t : tracks.values()) {
            for (Generation g : t.gens) {
                if (g.handle != null && g.state != State.ACTIVE) {
                    held.add(g);
                }
            }
        }
        int excess = held.size() - config.maxRotatedHandles();
        if (excess <= 0) {
            return false;
        }
        // Fully read, ended generations lose nothing by closing; drop those first, then the oldest.
        held.sort(Comparator.comparing((Generation g) -> !g.fullyRead()).thenComparingLong(g -> g.rotatedAtNanos));
        for (int i = 0; i < excess; i++) {
            Generation g = held.get(i);
            FsFile h = g.handle;
            g.handle = null;
            try {
                g.size = Math.max(g.size, h.size());
                h.close();
            } catch (IOException e) {
                // Closing is all that matters; the size is best effort.
            }
            if (g.state == State.ROTATED) {
                endAt(g, g.readOffset, "rotated file dropped: open-handle limit reached");
            } else if (g.size > g.finalLength) {
                events.accept(TailEvent.loss(g, g.finalLength, g.size, "appended after finish; handle dropped"));
            }
        }
        return true;
    }

    // ----------------------------------------------------------------------------- runtime interface

    /**
     * The head generation of every path that has one: the only ones that may be shipped. The list is
     * cached until the set of heads changes, because the runtime asks on every turn of its loop.
     */
    public List<Generation> shippable() {
        if (shippableVersion != headsVersion) {
            List<Generation> out = new ArrayList<>();
            for (PathTrack t : tracks.values()) {
                Generation g = t.gens.peekFirst();
                if (g != null) {
                    out.add(g);
                }
            }
            shippable = List.copyOf(out);
            shippableVersion = headsVersion;
        }
        return shippable;
    }

    /** The generation of this path that may be shipped now, or null. */
    public Generation currentShippable(String path) {
        PathTrack t = tracks.get(path);
        return t == null ? null : t.gens.peekFirst();
    }

    /** Shippable generations with bytes ready, least recently read first (fair across paths). */
    public List<Generation> readable() {
        List<Generation> out = new ArrayList<>();
        for (PathTrack t : tracks.values()) {
            Generation g = t.gens.peekFirst();
            if (g != null && g.available() > 0) {
                out.add(g);
            }
        }
        out.sort(Comparator.comparingLong(g -> g.lastReadSeq));
        return out;
    }

    /** Reads at the generation's read offset and advances it. See {@link #read(Generation, long, ByteBuffer)}. */
    public int read(Generation g, ByteBuffer dst) throws IOException {
        return read(g, g.readOffset, dst);
    }

    /**
     * Reads bytes [offset, ...) of the generation into dst (never past its final length). Returns the
     * count (0: nothing now), or -1 at the final length or if the bytes are gone. The read offset
     * becomes at least offset + count.
     */
    public int read(Generation g, long offset, ByteBuffer dst) throws IOException {
        if (g.state == State.CLOSED) {
            throw new IllegalStateException("generation closed: " + g);
        }
        long end = g.state == State.ENDED ? g.finalLength : Long.MAX_VALUE;
        if (offset >= end || g.handle == null) {
            return -1;
        }
        int limit = dst.limit();
        int start = dst.position();
        if (end - offset < dst.remaining()) {
            dst.limit(start + (int) (end - offset));
        }
        int n;
        try {
            n = g.handle.read(dst, offset);
        } finally {
            dst.limit(limit);
        }
        if (n <= 0) {
            return 0;
        }
        // A truncation plus regrowth since the last scan would hand out the next generation's bytes as
        // this one's: check the first bytes are still ours after reading (the scan then ends it).
        if (g.state != State.ENDED && !FileIdentities.prefixMatches(g.handle, g.identity, scratch)) {
            dst.position(start);
            g.suspect = true;
            return 0;
        }
        g.readOffset = Math.max(g.readOffset, offset + n);
        g.size = Math.max(g.size, g.readOffset);
        g.lastReadSeq = ++readSeq;
        return n;
    }

    /**
     * Sets where shipping resumes (the server's resume offset wins). If the bytes from there on are gone
     * (the file was truncated or dropped), they are reported lost and the generation ends there.
     * Returns the offset set.
     */
    public long seek(Generation g, long offset) {
        if (offset < 0 || g.state == State.CLOSED) {
            throw new IllegalArgumentException("bad seek " + offset + " on " + g);
        }
        if (g.state == State.ENDED) {
            long end = g.finalLength;
            if (offset > g.finalLength) {
                // The server holds more than we knew of (stale state): it wins.
                g.finalLength = offset;
                g.size = Math.max(g.size, offset);
            } else if (g.handle == null && offset < g.finalLength) {
                events.accept(TailEvent.loss(g, offset, g.finalLength, "gone before the server held it"));
                g.finalLength = offset;
            }
            if (g.tailUnknown) {
                // After the last size the agent saw, the file may have grown before it went: how much is unknown.
                g.tailUnknown = false;
                long at = Math.max(offset, end);
                events.accept(TailEvent.loss(g, at, at, "possibly written after the agent's last look at the file,"
                    + " which was gone (no copy found) when the agent restarted"));
            }
        }
        g.readOffset = offset;
        return offset;
    }

    /**
     * Keeps a loss of this generation that could not be reported now (no open stream); it is saved in the
     * state file until {@link #takeUnsentLosses} hands it to an open stream.
     */
    public void holdLoss(Generation g, long from, long to, String reason) {
        g.unsentLosses.add(UnsentLoss.newBuilder().setFromOffset(from).setToOffset(to)
            .setReason(reason == null ? "" : reason).build());
    }

    /** The losses held for this generation, oldest first; they are forgotten here. */
    public List<UnsentLoss> takeUnsentLosses(Generation g) {
        if (g.unsentLosses.isEmpty()) {
            return List.of();
        }
        List<UnsentLoss> out = List.copyOf(g.unsentLosses);
        g.unsentLosses.clear();
        return out;
    }

    /** Records the server's durable offset (kept in the state file). */
    public void durable(Generation g, long offset) {
        g.durableOffset = Math.max(g.durableOffset, offset);
    }

    /**
     * The server confirmed the close of this head generation: STREAM_CLOSED with the full length (the
     * generation is ENDED), or STALE_GENERATION (the server already holds a newer generation, so a rotated
     * one is treated as finished where it stands). It is forgotten and the next generation of the path
     * becomes shippable. An ACTIVE generation cannot be closed: on STALE_GENERATION for the file still at
     * the path, {@link #adoptGeneration} the server's newest number and open again instead.
     */
    public void closed(Generation g) throws IOException {
        PathTrack t = g.track;
        if (g.state == State.ROTATED && t.gens.peekFirst() == g) {
            g.state = State.ENDED;
            g.finalLength = g.readOffset;
        }
        if (g.state != State.ENDED || t.gens.peekFirst() != g) {
            throw new IllegalStateException("only an ended or rotated head generation can be closed: " + g);
        }
        t.gens.removeFirst();
        headsVersion++;
        g.state = State.CLOSED;
        g.durableOffset = Math.max(g.durableOffset, g.finalLength);
        if (g.handle != null) {
            FsFile h = g.handle;
            g.handle = null;
            try {
                long sz = h.size();
                if (sz > g.finalLength) {
                    events.accept(TailEvent.loss(g, g.finalLength, sz, "appended after the grace period"));
                }
            } finally {
                h.close();
            }
        }
        t.lastClosedNumber = g.number;
        t.lastClosedFinal = g.finalLength;
        t.lastClosedIdentity = g.identity;
        Generation next = t.gens.peekFirst();
        if (next != null) {
            next.previousLength = g.finalLength;
        }
        Generation active = t.active();
        if (!globs.isEmpty() && g.copyKey != null) {
            // A glob that matches the copy must not ship it again (its prefix is the generation's).
            TrackedFile f = tracked(g, true);
            claimed.put(g.copyKey, f.toBuilder().setIdentity(withKey(f.getIdentity(), g.copyKey)).build());
        } else if (!globs.isEmpty() && (active == null || !active.key.equals(g.key))) {
            claimed.put(g.key, tracked(g, true));
        }
    }

    /**
     * The server bound this generation to another number (reply to an open with generation 0, or
     * STALE_GENERATION's newest): renumber it and the ones queued after it, and trust numbers from now on.
     */
    public void adoptGeneration(Generation g, long serverGeneration) {
        PathTrack t = g.track;
        long n = serverGeneration;
        boolean after = false;
        for (Generation x : t.gens) {
            after |= x == g;
            if (after) {
                x.number = n++;
            }
            x.numberConfirmed = true;
        }
        t.nextNumber = Math.max(n, t.nextNumber);
        t.confirmed = true;
    }

    /** Open file handles (active and rotated). */
    public int openHandles() {
        int n = 0;
        for (PathTrack t : tracks.values()) {
            for (Generation g : t.gens) {
                n += g.handle != null ? 1 : 0;
            }
        }
        return n;
    }

    /** Every generation not yet closed, per path in order; for tests and status output. */
    public List<Generation> generations() {
        List<Generation> out = new ArrayList<>();
        for (PathTrack t : tracks.values()) {
            out.addAll(t.gens);
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (PathTrack t : tracks.values()) {
            for (Generation g : t.gens) {
                if (g.handle != null) {
                    try {
                        g.handle.close();
                    } catch (IOException e) {
                        first = first == null ? e : first;
                    }
                    g.handle = null;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    // -------------------------------------------------------------------------------- state file

    private static TrackedFile tracked(Generation g, boolean finished) {
        return TrackedFile.newBuilder().setPath(g.path())
            .setGeneration(g.numberConfirmed || finished ? g.number : 0)
            .setIdentity(g.identity)
            .setDurableOffset(finished ? g.finalLength : g.durableOffset)
            .setReadOffset(g.readOffset)
            .setSizeSeen(Math.max(g.size, g.readOffset))
            .setFinished(finished)
            .addAllUnsentLosses(finished ? List.of() : g.unsentLosses)
            .build();
    }

    /**
     * What to persist: every generation not yet closed (generation 0 if its number is provisional), the
     * last closed one of each path (keeps numbering), and rotated files already shipped that a glob
     * still sees (so they are not shipped again).
     */
    public AgentState snapshot() {
        AgentState.Builder b = AgentState.newBuilder();
        Set<FileKey> written = new HashSet<>();
        for (PathTrack t : tracks.values()) {
            if (t.lastClosedNumber > 0 && t.lastClosedIdentity != null) {
                b.addFiles(TrackedFile.newBuilder().setPath(t.name).setGeneration(t.lastClosedNumber)
                    .setIdentity(t.lastClosedIdentity).setDurableOffset(t.lastClosedFinal)
                    .setReadOffset(t.lastClosedFinal).setFinished(true));
                written.add(FileIdentities.keyOf(t.lastClosedIdentity));
            }
            for (Generation g : t.gens) {
                b.addFiles(tracked(g, false));
            }
        }
        for (Map.Entry<FileKey, TrackedFile> e : claimed.entrySet()) {
            if (!written.contains(e.getKey())) {
                b.addFiles(e.getValue());
            }
        }
        return b.build();
    }

    /**
     * Restores saved state; call once, before the first scan. Each unfinished generation is looked for
     * at its path and then in the same directory (same device, inode and fingerprint: rotated while the
     * agent was down) and shipped before whatever is at the path now. A generation whose file is gone
     * ends at its durable offset, with a loss event for what had been read beyond it.
     */
    public void restore(AgentState state, long now) throws IOException {
        Map<String, List<TrackedFile>> byPath = new LinkedHashMap<>();
        for (TrackedFile f : state.getFilesList()) {
            byPath.computeIfAbsent(f.getPath(), k -> new ArrayList<>()).add(f);
        }
        for (Map.Entry<String, List<TrackedFile>> e : byPath.entrySet()) {
            Path path = Path.of(e.getKey());
            PathTrack t = tracks.get(path.toString());
            if (t == null) {
                t = new PathTrack(path, matchesGlob(path), true);
                tracks.put(t.name, t);
                headsVersion++;
            }
            restoreTrack(t, e.getValue(), now);
        }
    }

    private boolean matchesGlob(Path p) {
        for (Glob g : globs) {
            if (g.matcher.matches(p)) {
                return true;
            }
        }
        return false;
    }

    private void restoreTrack(PathTrack t, List<TrackedFile> files, long now) throws IOException {
        List<TrackedFile> open = new ArrayList<>();
        boolean provisional = false;
        for (TrackedFile f : files) {
            t.nextNumber = Math.max(t.nextNumber, f.getGeneration() + 1);
            if (f.getFinished()) {
                if (!globs.isEmpty()) {
                    claimed.put(FileIdentities.keyOf(f.getIdentity()), f);
                }
                if (f.getGeneration() > t.lastClosedNumber) {
                    t.lastClosedNumber = f.getGeneration();
                    t.lastClosedFinal = f.getDurableOffset();
                    t.lastClosedIdentity = f.getIdentity();
                }
            } else {
                open.add(f);
                provisional |= f.getGeneration() == 0;
            }
        }
        t.confirmed = !provisional;
        // Generation 0 (provisional) entries keep their saved order after the numbered ones.
        open.sort(Comparator.comparingLong(f -> f.getGeneration() == 0 ? Long.MAX_VALUE : f.getGeneration()));
        // A generation found truncated and rotated away inserts one after it: later ones move one up (none
        // of them can have been opened at the server yet, as this one was not closed).
        long shift = 0;
        for (int i = 0; i < open.size(); i++) {
            TrackedFile f = open.get(i);
            long number = f.getGeneration() == 0 ? t.nextNumber++ : f.getGeneration() + shift;
            boolean last = i == open.size() - 1;
            if (restoreGeneration(t, f, number, last, open.subList(i + 1, open.size()), now)) {
                shift++;
                t.nextNumber = Math.max(t.nextNumber, number + 2);
            }
        }
    }

    /** Returns true if it also restored the generation's content after an in-place truncation (see below). */
    private boolean restoreGeneration(PathTrack t, TrackedFile f, long number, boolean last, List<TrackedFile> later,
                                      long now) throws IOException {
        FileKey key = FileIdentities.keyOf(f.getIdentity());
        List<Path> candidates = new ArrayList<>();
        candidates.add(t.path);
        Path dir = t.path.getParent();
        if (dir != null) {
            List<Path> siblings = new ArrayList<>(fs.list(dir));
            siblings.sort(null);
            for (Path s : siblings) {
                if (!s.equals(t.path)) {
                    candidates.add(s);
                }
            }
        }
        String reused = "";
        FsFile truncated = null;
        Path truncatedAt = null;
        for (Path c : candidates) {
            if (!key.equals(fs.key(c))) {
                continue;
            }
            FsFile h = fs.openRead(c);
            if (h == null) {
                continue;
            }
            if (!key.equals(h.key()) || !FileIdentities.prefixMatches(h, f.getIdentity(), scratch)) {
                // Same inode, other content: never resume at the old offset. At a rotated name of the path it is
                // the file truncated in place and then rotated away, all while the agent was down (issue 11 item
                // 10): what was written after the truncation exists only there, so it becomes the next generation.
                if (truncated == null && key.equals(h.key()) && h.size() > 0 && truncatedThenRotated(t, c, later, h)) {
                    truncated = h;
                    truncatedAt = c;
                    continue;
                }
                reused = "; " + c + " reuses its inode with other content";
                h.close();
                continue;
            }
            boolean atPath = c.equals(t.path);
            State st = atPath && last ? State.ACTIVE : State.ROTATED;
            Generation g = new Generation(t, number, f.getIdentity(), h, st, now);
            g.size = h.size();
            g.durableOffset = f.getDurableOffset();
            g.readOffset = f.getDurableOffset();
            g.rotatedAtNanos = now;
            g.numberConfirmed = f.getGeneration() != 0;
            g.previousLength = t.gens.isEmpty() ? t.lastClosedFinal : Math.max(0, t.gens.peekLast().finalLength);
            g.unsentLosses.addAll(f.getUnsentLossesList());
            t.gens.addLast(g);
            headsVersion++;
            events.accept(TailEvent.of(Kind.RESTORED, g, atPath ? "found at its path" : "found as " + c));
            if (truncated != null) {
                truncated.close(); // a hard link of the same inode: the file itself was found
            }
            return false;
        }
        // The file is gone (deleted while open, or rotated away and deleted, while the agent was down), or its
        // content was (truncated in place: copytruncate). If copytruncate's copy is beside the path (issue 13
        // item 13), the rest of the generation is read from it. Otherwise it ends at the largest size the agent
        // saw; the reopen's seek to the server's resume offset then reports exactly the bytes the server never
        // got as lost (none are readable any more), and a loss of unknown size after them: the file may have
        // grown after the agent's last look.
        if (truncated != null) {
            reused = "; truncated in place, then rotated away as " + truncatedAt;
        }
        long seen = Math.max(f.getSizeSeen(), Math.max(f.getReadOffset(), f.getDurableOffset()));
        Copy copy = findCopy(t, f.getIdentity(), FileIdentities.keyOf(f.getIdentity()), f.getDurableOffset());
        Generation g = new Generation(t, number, f.getIdentity(), null, State.ENDED, now);
        g.durableOffset = f.getDurableOffset();
        g.readOffset = f.getDurableOffset();
        g.size = seen;
        g.numberConfirmed = f.getGeneration() != 0;
        g.previousLength = t.gens.isEmpty() ? t.lastClosedFinal : Math.max(0, t.gens.peekLast().finalLength);
        g.unsentLosses.addAll(f.getUnsentLossesList());
        t.gens.addLast(g);
        headsVersion++;
        if (copy != null) {
            events.accept(TailEvent.of(Kind.RESTORED, g, "file not found" + reused + "; its copy " + copy.path()
                + " holds the rest"));
            readFromCopy(g, copy, now);
        } else {
            g.finalLength = g.size;
            g.tailUnknown = true;
            events.accept(TailEvent.of(Kind.RESTORED, g, "file not found" + reused));
            events.accept(TailEvent.finished(g, g.finalLength, "file not found"));
        }
        if (truncated == null) {
            return false;
        }
        Generation n = new Generation(t, number + 1, FileIdentities.of(truncated, scratch), truncated, State.ROTATED, now);
        n.size = truncated.size();
        n.rotatedAtNanos = now;
        n.numberConfirmed = g.numberConfirmed;
        n.previousLength = Math.max(0, g.finalLength); // set again when g, read from a copy, ends
        t.gens.addLast(n);
        headsVersion++;
        events.accept(TailEvent.of(Kind.NEW_FILE, n, "content after an in-place truncation, found as " + truncatedAt));
        return true;
    }

    /**
     * Whether {@code c}, holding the saved generation's device and inode but other first bytes, is that file
     * truncated in place and then rotated away, rather than an unrelated file that got the inode after the
     * old one was deleted: it must carry a rotated name of the path (app.log.1, app.log-20240101, app.log_old),
     * not be a path the agent tails itself, and no later saved generation of the path may have its inode (the
     * agent saw that truncation: the later generation is this content) or its first bytes (a copytruncate's copy
     * of a later generation that happened to get the inode).
     */
    private boolean truncatedThenRotated(PathTrack t, Path c, List<TrackedFile> later, FsFile h) throws IOException {
        if (!isRotatedName(t.path, c)) {
            return false;
        }
        for (TrackedFile o : later) {
            if (FileIdentities.keyOf(o.getIdentity()).equals(h.key()) || (o.getIdentity().getFingerprintLength() > 0
                && FileIdentities.prefixMatches(h, o.getIdentity(), scratch))) {
                return false;
            }
        }
        return true;
    }
}
