/** JMH benchmarks; peers and ceilings are run side by side by the scripts in benchmarks/. */
package dev.safeload.bench;
