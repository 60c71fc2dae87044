package io.tailwire.server.store;

/** One copy: an agent's source path. Immutable, any thread. */
record Key(String agentId, String path) {
    @Override
    public String toString() {
        return agentId + ":" + OutputPaths.quote(path);
    }
}
