/**
 * The admin HTTP wing ({@code --admin}): endpoints for status, metrics and throttle settings, on their own
 * threads. It depends on {@code server.status} and {@code server.limit}, never the reverse, so the engine
 * thread's policy and the status model do not depend on HTTP.
 */
package io.tailwire.server.admin;
