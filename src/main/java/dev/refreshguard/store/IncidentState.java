package dev.refreshguard.store;

/**
 * The reuse incident a family is in, as stored beside it: when the current incident began (0: none yet) and how many
 * reuses it counted.
 */
public record IncidentState(long startedAt, int count) {

    public static final IncidentState NONE = new IncidentState(0, 0);
}
