/**
 * The server's storage (wire-spec.md 6): output files under OUT/agent_id, the generation index, and
 * group commit. {@link io.tailwire.server.store.OutputStore} is the only public entry (with the pure name
 * checks of {@link io.tailwire.server.store.OutputPaths}); behind it one package-private class per room:
 *
 * <ul>
 * <li>{@code PathContainment}: keeps output files inside OUT/agent_id on disk: everything below OUT is
 *     reached from an open directory by name, never through a link ({@link io.tailwire.io.FsDir}).
 * <li>{@code OpenFiles}: the loaded paths ({@code PathState}), which have live streams, and closing idle
 *     files least recently used first.
 * <li>{@code Generations} and {@code IndexFiles}: resume, start or refuse a generation (6.1, 6.4), and the
 *     index file replaced atomically.
 * <li>{@code GenerationStream}: one generation as the engine appends to it.
 * <li>{@code StagedWriter}: appends gathered per file, one write per file per engine turn.
 * <li>{@code GroupCommit}: the engine-to-writer hand-off (a queue of dirty files) and forcing.
 * <li>{@code MovedCopies}: an output file the operator moved away is continued in a new file.
 * </ul>
 *
 * <p>Threads: everything belongs to the server's one engine thread except {@code GroupCommit#syncDirty}
 * (the writer thread), the read-only getters ({@code held}, {@code durable}, metrics: any thread), and
 * loading new paths on the optional parallel-I/O pool ({@code OutputStore#parallelIo}). Each class's
 * comment says which of its methods which thread calls. The package depends on {@code engine}, {@code io},
 * {@code proto} and {@code wire} only.
 */
package io.tailwire.server.store;
