/**
 * Ingest rate policy, run on the engine thread: the operator's {@link io.tailwire.server.limit.IngestThrottle}
 * (token buckets, global and per agent) and the {@link io.tailwire.server.limit.FairShareLimiter} that turns
 * it into the engine's receive windows. The admin HTTP wing only reads and sets the throttle's rates; this
 * package knows nothing of HTTP.
 */
package io.tailwire.server.limit;
