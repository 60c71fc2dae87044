/**
 * What the server shows about itself, independent of how it is served: the
 * {@link io.tailwire.server.status.ServerStatus} snapshot the engine thread publishes, the
 * {@link io.tailwire.server.status.StatusSource} view of it, and the server's metrics, registered
 * with Prometheus' Java client in an {@link io.tailwire.http.MetricRegistry}. The admin HTTP wing renders
 * these; nothing here depends on it.
 */
package io.tailwire.server.status;
