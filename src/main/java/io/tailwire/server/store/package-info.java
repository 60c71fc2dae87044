/**
 * The server's storage (wire-spec.md 6): output files under OUT/agent_id, the generation index, and
 * group commit, behind {@link io.tailwire.server.store.OutputStore} (with the pure name checks of
 * {@link io.tailwire.server.store.OutputPaths}). Threads: the server's one engine thread, except
 * {@code OutputStore#syncDirty} (the writer thread) and the read-only getters (any thread). The package
 * depends on {@code engine}, {@code io}, {@code proto} and {@code wire} only.
 */
package io.tailwire.server.store;
