package dev.refreshguard.alert;

/**
 * Repeated reuses of one family are one incident: the first reuse opens it, later ones within {@link #WINDOW_SECONDS}
 * of its start only count. Pure: decides, from the stored state, what one more reuse stores and which channels speak.
 * <ul>
 *   <li>letters: only the reuse that opens an incident (so at most one per recipient per family and window);</li>
 *   <li>JSON line and stored event: the 1st, 2nd, 4th, 8th... reuse of the incident (each says its count), so
 *       n replays give at most 1 + log2(n) of each;</li>
 *   <li>{@code refresh_guard_reuse_total}: every reuse.</li>
 * </ul>
 *
 * @param startedAt when the incident began (epoch seconds)
 * @param count     how many reuses it counted, this one included
 */
public record Incident(long startedAt, int count) {

    /** One incident lasts this long from its first reuse; a reuse after that opens a new one (and a new letter). */
    public static final long WINDOW_SECONDS = 900;

    /** The incident after one more reuse at {@code now}, from the stored one ({@code count} 0: none yet). */
    public static Incident next(long startedAt, int count, long now) {
        boolean open = count > 0 && now >= startedAt && now - startedAt < WINDOW_SECONDS;
        return open ? new Incident(startedAt, count == Integer.MAX_VALUE ? count : count + 1) : new Incident(now, 1);
    }

    /** Whether this reuse opened the incident: the one that sends letters. */
    public boolean opened() {
        return count == 1;
    }

    /** Whether this reuse writes the JSON line and the stored event: powers of two of the count. */
    public boolean reported() {
        return count > 0 && (count & (count - 1)) == 0;
    }
}
