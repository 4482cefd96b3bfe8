package dev.refreshguard.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import jakarta.persistence.EntityManager;
import jakarta.persistence.Query;

import dev.refreshguard.store.RotationOutcome.GraceReplay;
import dev.refreshguard.store.RotationOutcome.Reused;
import dev.refreshguard.store.RotationOutcome.Revoked;
import dev.refreshguard.store.RotationOutcome.Rotated;
import dev.refreshguard.store.RotationOutcome.Stale;
import dev.refreshguard.store.RotationOutcome.Unknown;

/**
 * The refresh hot path's statements: start a family, adopt a token from before protection, rotate, keep (no
 * rotation) and keep a grace successor. One row per family in Keycloak's own database, written in the request's
 * transaction. The rotate step is one conditional UPDATE, so the database decides — atomically and for every node of
 * a cluster — which of several concurrent presenters of one token wins; a request whose transaction rolls back leaves
 * the family as it was.
 */
public final class FamilyLedger {

    /** The log category of the statements sent as plain JDBC (see {@link Sql#LOG}). */
    public static final String SQL_LOG_CATEGORY = "dev.refreshguard.sql";

    private static final String INSERT_COLUMNS = "ID, REALM_ID, CLIENT_ID, USER_ID, SESSION_ID, OFFLINE, PARENT_ID, GENERATION,"
            + " CREATED_AT, ROTATED_AT, ROTATED_BY_IP, STATE, STOPPED_AT, REVOKED_REASON";
    private static final String INSERT_VALUES
            = ":id, :realm, :client, :user, :session, :offline, :parent, 0, :now, :now, :ip, 'ACTIVE', 0, NULL";
    /** Also records who used the token it rotates away (issue 26): the same one statement, two more columns. */
    private static final String ROTATE = "UPDATE RG_FAMILY SET GENERATION = ?, ROTATED_AT = ?, ROTATED_BY_IP = ?,"
            + " ROTATED_BY_UA = ?, ROTATED_BY_JKT = ?, SUCCESSOR = '', SUCCESSOR_EXP = 0"
            + " WHERE ID = ? AND GENERATION = ? AND STATE = 'ACTIVE'";
    /** A family as the rotate step judges it: with its sealed grace successor, the first-use evidence, the incident. */
    private static final Columns JUDGED = Family.COLUMNS.plus("SUCCESSOR", "SUCCESSOR_EXP", "ROTATED_BY_UA", "ROTATED_BY_JKT",
            "INCIDENT_AT", "INCIDENT_COUNT");
    private static final Columns INCIDENT = new Columns("INCIDENT_AT", "INCIDENT_COUNT");

    private final EntityManager em;
    /** Asked only by an adoption, the one step whose SQL differs between databases. */
    private final Supplier<SqlDialect> dialect;
    private final SuccessorSeal seal = new SuccessorSeal();
    private final int lockTimeoutSeconds;
    /** Whether the last rotate got a connection: this object lives for one Keycloak session (one request). */
    private boolean connected;

    FamilyLedger(EntityManager em, Supplier<SqlDialect> dialect, int lockTimeoutSeconds) {
        this.em = em;
        this.dialect = dialect;
        this.lockTimeoutSeconds = lockTimeoutSeconds;
    }

    /** Generation 0 of a new family: a grant or a token exchange. */
    public void start(NewFamily f) {
        bind(em.createNativeQuery("INSERT INTO RG_FAMILY (" + INSERT_COLUMNS + ") VALUES (" + INSERT_VALUES + ")"), f)
                .setParameter("parent", Sql.orEmpty(f.parentId()))
                .executeUpdate();
    }

    /**
     * The adopt step for a token issued before the realm was protected: its family has an id derived from the token
     * itself, so every presentation of that token, on any node, names the same row; the row is inserted only if
     * absent, then the normal rotate from generation 0 decides. The first presentation wins; every later one is reuse
     * (or a grace replay).
     *
     * @param stale    whether a newer token of the same client session exists: such a token is never adopted, only
     *                 judged against a family that an earlier presentation adopted
     * @param rotating false when the client's policy does not rotate: the family is only recorded
     */
    public RotationOutcome adopt(NewFamily f, boolean stale, String presentedToken, long now, Presentation by, int graceSeconds,
                                 boolean rotating) {
        insertAdopted(f, stale);
        RotationOutcome outcome = rotating ? rotate(f.id(), 0, presentedToken, now, by, graceSeconds) : keep(f.id(), now, by);
        return stale && outcome instanceof Unknown ? new Stale() : outcome;
    }

    /**
     * {@link #adopt} where no successor is built: the token from before protection is recorded as generation 0 (when
     * it is its session's newest) and judged by {@link #current}, so one adopted and rotated away earlier is reuse.
     */
    public RotationOutcome adoptCurrent(NewFamily f, boolean stale, long now) {
        insertAdopted(f, stale);
        RotationOutcome outcome = current(f.id(), 0, now);
        return stale && outcome instanceof Unknown ? new Stale() : outcome;
    }

    private void insertAdopted(NewFamily f, boolean stale) {
        SqlDialect sql = stale ? null : dialect.get();
        if (!stale && (sql.atomic() || lockedRow(f.id()).isEmpty())) {
            // Bounded: a concurrent adoption of the same token holds the new row's key until it ends.
            bind(LockWait.bounded(em.createNativeQuery(sql.insertIfAbsent("RG_FAMILY", INSERT_COLUMNS, INSERT_VALUES)),
                    lockTimeoutSeconds), f)
                    .setParameter("parent", "")
                    .executeUpdate();
        }
    }

    /**
     * For a refresh where Keycloak builds no successor ({@code use.refresh.tokens=false}, a client-policy executor that
     * drops it): the presented token may be served only if it is the family's newest and the family is active. Nothing
     * moves; an older generation is reuse, exactly as on a rotation. Not on the normal rotation path.
     */
    public RotationOutcome current(String familyId, int generation, long now) {
        Optional<Columns.Row> found = Sql.plausibleId(familyId) ? lockedRow(familyId) : Optional.empty();
        if (found.isEmpty()) {
            return new Unknown(familyId);
        }
        Family family = Family.of(found.get());
        if (family.revoked()) {
            return new Revoked(family);
        }
        if (family.generation() == generation) {
            return new RotationOutcome.Current();
        }
        return family.generation() < generation ? new Unknown(familyId) : reused(found.get(), family, generation, now);
    }

    private static Query bind(Query insert, NewFamily f) {
        return insert.setParameter("id", f.id())
                .setParameter("realm", f.realmId())
                .setParameter("client", f.clientUuid())
                .setParameter("user", f.userId())
                .setParameter("session", f.sessionId())
                .setParameter("offline", f.offline())
                .setParameter("now", f.createdAt())
                .setParameter("ip", Sql.clip(f.ip()));
    }

    /**
     * The atomic rotate step: moves the family from the presented generation to the next one, or says why not.
     * It runs before the successor is encoded, so that the successor's claims can follow the outcome; the sealed
     * successor for grace replays is stored afterwards by {@link #keepSuccessor}.
     *
     * @param presentedToken the refresh token as the client sent it: the key that opens a sealed successor
     */
    public RotationOutcome rotate(String familyId, int generation, String presentedToken, long now, Presentation by, int graceSeconds) {
        if (!Sql.plausibleId(familyId)) {
            return new Unknown(familyId);
        }
        if (rotateRow(familyId, generation, now, by) == 1) {
            return new Rotated();
        }
        return judge(familyId, generation, presentedToken, now, graceSeconds);
    }

    /**
     * The rotate UPDATE as plain JDBC on the request's own connection and transaction (JPA 3.2
     * {@code callWithConnection}): a native query would also build a query object, flush the persistence context
     * and walk every entity type Keycloak maps to evict caches after the write — work that this one statement on a
     * table no entity maps does not need, on every refresh.
     */
    private int rotateRow(String familyId, int generation, long now, Presentation by) {
        if (Sql.LOG.isDebugEnabled()) {
            Sql.LOG.debug(ROTATE);
        }
        connected = false;
        try {
            return em.callWithConnection((Connection connection) -> rotateRow(connection, familyId, generation, now, by));
        } catch (RuntimeException e) {
            // Usually the request's first statement: when the pool cannot hand out a live connection (the database
            // went away under it), the driver's error may carry no SQL state at all, e.g. Agroal's "Failed to enlist".
            throw connected ? e : new StoreFailure.NoConnection(e);
        }
    }

    private int rotateRow(Connection connection, String familyId, int generation, long now, Presentation by) throws SQLException {
        connected = true;
        try (PreparedStatement update = connection.prepareStatement(ROTATE)) {
            // The row lock of a dead transaction must not hold a worker thread: the timeout rides on this
            // statement (a timer on PostgreSQL, a statement prefix on MariaDB), no extra round trip.
            LockWait.bounded(update, lockTimeoutSeconds);
            update.setInt(1, generation + 1);
            update.setLong(2, now);
            update.setString(3, Sql.clip(by.ip()));
            update.setString(4, Sql.orEmpty(by.userAgentHash()));
            update.setString(5, Sql.orEmpty(by.keyThumbprint()));
            update.setString(6, familyId);
            update.setInt(7, generation);
            return update.executeUpdate();
        }
    }

    /**
     * Keeps the successor just handed out, sealed with its parent token, for replays inside the grace window.
     * Only called with a grace window, in the transaction that rotated the family.
     */
    public void keepSuccessor(String familyId, int successorGeneration, String successorToken, String parentToken, long successorExp) {
        em.createNativeQuery("UPDATE RG_FAMILY SET SUCCESSOR = :sealed, SUCCESSOR_EXP = :exp WHERE ID = :id AND GENERATION = :gen")
                .setParameter("sealed", seal.seal(successorToken, parentToken))
                .setParameter("exp", successorExp)
                .setParameter("id", familyId)
                .setParameter("gen", successorGeneration)
                .executeUpdate();
    }

    /**
     * For a refresh without rotation: whether the presented token's family is still live and, if so, the generation of
     * the successor about to be served, counted on as on a rotation. The presented token (any of the family's) stays
     * usable while rotation is off, but the ledger knows which token was issued last, so that switching rotation on
     * lets exactly that one win the first rotation.
     */
    public RotationOutcome keep(String familyId, long now, Presentation by) {
        Optional<Family> family = Sql.plausibleId(familyId) ? lockedRow(familyId).map(Family::of) : Optional.empty();
        if (family.isEmpty()) {
            return new Unknown(familyId);
        }
        if (family.get().revoked()) {
            return new Revoked(family.get());
        }
        int generation = family.get().generation();
        // The row is locked by the read above: the rotate statement cannot miss.
        rotateRow(familyId, generation, now, by);
        return new RotationOutcome.Kept(generation + 1);
    }

    /** The presented generation was not the newest: why not. */
    private RotationOutcome judge(String familyId, int generation, String presentedToken, long now, int graceSeconds) {
        Optional<Columns.Row> found = lockedRow(familyId);
        if (found.isEmpty()) {
            return new Unknown(familyId);
        }
        Columns.Row row = found.get();
        Family family = Family.of(row);
        if (family.revoked()) {
            return new Revoked(family);
        }
        if (family.generation() <= generation) {
            // Newer than the ledger knows: only possible if the database was restored from a backup.
            return new Unknown(familyId);
        }
        boolean justRotated = family.generation() == generation + 1;
        if (justRotated && graceSeconds > 0 && now - family.rotatedAt() <= graceSeconds) {
            Optional<String> successor = seal.open(row.text("SUCCESSOR"), presentedToken);
            if (successor.isPresent()) {
                return new GraceReplay(successor.get(), row.number("SUCCESSOR_EXP"));
            }
        }
        return reused(row, family, generation, now);
    }

    private static Reused reused(Columns.Row row, Family family, int generation, long now) {
        IncidentState incident = incidentOf(row);
        return family.generation() == generation + 1
                ? new Reused(family, generation, now - family.rotatedAt(),
                        Presentation.stored(family.rotatedByIp(), row.optionalText("ROTATED_BY_UA"), row.optionalText("ROTATED_BY_JKT")),
                        incident)
                : new Reused(family, generation, -1, null, incident);
    }

    /**
     * A token of the family presented with a DPoP key other than the one it is bound to (Keycloak refused it): judged
     * like a reuse of that generation, on the locked row, so that the incident and the action follow. Empty when the
     * family is unknown or revoked already.
     */
    public Optional<Reused> presentedWithOtherKey(String familyId, int generation, long now) {
        Optional<Columns.Row> found = Sql.plausibleId(familyId) ? lockedRow(familyId) : Optional.empty();
        if (found.isEmpty()) {
            return Optional.empty();
        }
        Family family = Family.of(found.get());
        if (family.revoked() || family.generation() < generation) {
            return Optional.empty();
        }
        return Optional.of(reused(found.get(), family, generation, now));
    }

    /**
     * Records the family's reuse incident after a reuse: on the row the judging step locked, in the request's
     * transaction, so that concurrent replays of one family count one after the other.
     */
    public void recordIncident(String familyId, IncidentState incident, String lastIp) {
        em.createNativeQuery("UPDATE RG_FAMILY SET INCIDENT_AT = :at, INCIDENT_COUNT = :count, INCIDENT_IP = :ip WHERE ID = :id")
                .setParameter("at", incident.startedAt())
                .setParameter("count", incident.count())
                .setParameter("ip", Sql.clip(lastIp))
                .setParameter("id", familyId)
                .executeUpdate();
    }

    /**
     * The family's stored incident, read with its row locked: for a reuse counted outside the request that detected it
     * (the durable redo after a rollback), so that it counts after any reuse committed meanwhile. NONE when the
     * family is gone.
     */
    public IncidentState lockedIncident(String familyId) {
        return INCIDENT.rows(LockWait.bounded(em.createNativeQuery("SELECT " + INCIDENT.list()
                        + " FROM RG_FAMILY WHERE ID = :id FOR UPDATE"), lockTimeoutSeconds).setParameter("id", familyId))
                .stream().findFirst()
                .map(FamilyLedger::incidentOf)
                .orElse(IncidentState.NONE);
    }

    private static IncidentState incidentOf(Columns.Row row) {
        return new IncidentState(row.number("INCIDENT_AT"), row.integer("INCIDENT_COUNT"));
    }

    /**
     * A locking read: under MariaDB's REPEATABLE READ a plain SELECT would answer from the transaction's snapshot,
     * older than the row a concurrent winner just committed; FOR UPDATE reads (and holds) the latest row.
     */
    private Optional<Columns.Row> lockedRow(String familyId) {
        List<Columns.Row> rows = JUDGED.rows(LockWait.bounded(em.createNativeQuery("SELECT " + JUDGED.list()
                + " FROM RG_FAMILY WHERE ID = :id FOR UPDATE"), lockTimeoutSeconds).setParameter("id", familyId));
        return rows.stream().findFirst();
    }
}
