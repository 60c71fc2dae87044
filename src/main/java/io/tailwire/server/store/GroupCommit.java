package io.tailwire.server.store;

import io.tailwire.io.FsFile;

import java.io.IOException;
import java.util.ArrayList;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Forcing output files and publishing what is durable. Threads: {@link #markDirty} and {@link #forceNow}
 * are called by the engine thread; {@link #syncDirty} by one writer thread (or the simulator); the queue
 * between them is the only hand-off, each file queued at most once (its dirty flag). {@link #forceLocked}
 * is called by either, holding the file's lock.
 */
final class GroupCommit {
    private static final int RETRY = -1;

    private final StoreMetrics metrics;
    private final Consumer<String> log;
    private volatile Runnable onDirty = () -> { };
    /** Set by the engine thread before use; read by the writer thread. */
    private volatile ExecutorService ioExecutor;

    // Engine -> writer hand-off: each state is queued at most once (its dirty flag).
    private final ConcurrentLinkedQueue<PathState> dirtyQueue = new ConcurrentLinkedQueue<>();
    // Writer thread only: states whose force failed, retried on the next syncDirty.
    private final ArrayList<PathState> retry = new ArrayList<>();

    GroupCommit(StoreMetrics metrics, Consumer<String> log) {
        this.metrics = metrics;
        this.log = log;
    }

    void onDirty(Runnable listener) {
        this.onDirty = listener;
    }

    void parallelIo(ExecutorService executor) {
        this.ioExecutor = executor;
    }

    /** Engine thread, after a write: hands the file to the writer once per sync round. */
    void markDirty(PathState s) {
        if (s.dirty.compareAndSet(false, true)) {
            dirtyQueue.offer(s);
            onDirty.run();
        }
    }

    /** Engine thread: forces now if anything is unforced. */
    void forceNow(PathState s) throws IOException {
        s.lock.lock();
        try {
            forceLocked(s);
        } finally {
            s.lock.unlock();
        }
    }

    /** Forces the file if bytes were written since the last force; true if it did. */
    boolean forceLocked(PathState s) throws IOException {
        FsFile f = s.file;
        if (f == null) {
            return false; // closed while queued: it was clean when closed
        }
        long w = s.written; // snapshot before forcing: only what was written before is durable after
        if (w <= s.durableEnd.get()) {
            return false;
        }
        f.force();
        metrics.forces.incrementAndGet();
        long old = s.durableEnd.getAndAccumulate(w, Math::max);
        if (w > old) {
            metrics.bytesDurable.addAndGet(w - old);
        }
        return true;
    }

    /** See {@link OutputStore#syncDirty}. Writer thread. */
    int syncDirty() {
        ArrayList<PathState> batch = new ArrayList<>(retry);
        retry.clear();
        PathState s;
        while ((s = dirtyQueue.poll()) != null) {
            batch.add(s);
        }
        int[] outcome = new int[batch.size()];
        ExecutorService ex = ioExecutor;
        if (ex != null && batch.size() > 1) {
            // Files forced at the same time share the file system's journal commits: with 1000 agents, one
            // force after another was the whole writer thread and held every agent's window shut.
            ArrayList<Future<Integer>> running = new ArrayList<>(batch.size());
            for (PathState p : batch) {
                running.add(ex.submit(() -> syncOne(p)));
            }
            for (int i = 0; i < outcome.length; i++) {
                outcome[i] = waitFor(running.get(i));
            }
        } else {
            for (int i = 0; i < outcome.length; i++) {
                outcome[i] = syncOne(batch.get(i));
            }
        }
        int forced = 0;
        int failing = 0;
        for (int i = 0; i < outcome.length; i++) {
            if (outcome[i] == RETRY) {
                retry.add(batch.get(i));
            } else {
                forced += outcome[i];
            }
            if (batch.get(i).forceFailing) {
                failing++; // a failed file is in every round's batch (retried or queued again) until it works
            }
        }
        metrics.forcesFailing = failing;
        return forced;
    }

    private static int waitFor(Future<Integer> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the force runs on; its result must still be collected
                } catch (ExecutionException e) {
                    throw new IllegalStateException("forcing failed unexpectedly", e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Forces one file: 1 if it did, 0 if it had nothing to force, RETRY if the force failed. */
    private int syncOne(PathState s) {
        s.dirty.set(false); // before the snapshot, so an append after it queues the file again
        s.lock.lock();
        try {
            boolean did = forceLocked(s);
            if (s.forceFailing) {
                s.forceFailing = false;
                log.accept("store: " + s.key + ": forcing output works again");
            }
            return did ? 1 : 0;
        } catch (IOException e) {
            metrics.diskErrors.incrementAndGet();
            if (!s.forceFailing) {
                s.forceFailing = true;
                log.accept("store: " + s.key + ": cannot force output (will retry): " + e);
            }
            return s.dirty.compareAndSet(false, true) ? RETRY : 0;
        } finally {
            s.lock.unlock();
        }
    }
}
