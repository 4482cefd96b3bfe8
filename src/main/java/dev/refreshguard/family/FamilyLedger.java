package dev.refreshguard.family;

import java.sql.Clob;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import jakarta.persistence.EntityManager;
import jakarta.persistence.Query;

import org.jboss.logging.Logger;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.KeycloakSession;

import dev.refreshguard.family.Family.State;
import dev.refreshguard.family.RotationOutcome.GraceReplay;
import dev.refreshguard.family.RotationOutcome.Reused;
import dev.refreshguard.family.RotationOutcome.Revoked;
import dev.refreshguard.family.RotationOutcome.Rotated;
import dev.refreshguard.family.RotationOutcome.Stale;
import dev.refreshguard.family.RotationOutcome.Unknown;

/**
 * The only code that touches family storage: one row per family in Keycloak's own database, written in the
 * request's transaction. The rotate step is one conditional UPDATE, so the database decides — atomically and
 * for every node of a cluster — which of several concurrent presenters of one token wins; a request whose
 * transaction rolls back leaves the family as it was.
 */
public final class FamilyLedger {

    private static final String COLUMNS = "ID, REALM_ID, CLIENT_ID, USER_ID, SESSION_ID, OFFLINE, PARENT_ID, GENERATION,"
            + " CREATED_AT, ROTATED_AT, ROTATED_BY_IP, STATE, REVOKED_AT, REVOKED_REASON";
    private static final String ROTATE = "UPDATE RG_FAMILY SET GENERATION = ?, ROTATED_AT = ?, ROTATED_BY_IP = ?,"
            + " SUCCESSOR = '', SUCCESSOR_EXP = 0 WHERE ID = ? AND GENERATION = ? AND STATE = 'ACTIVE'";
    /**
     * Statements sent as plain JDBC bypass Hibernate's {@code org.hibernate.SQL} log; they are logged here at DEBUG
     * so that one log category more shows every statement (and the benchmark can count them).
     */
    public static final String SQL_LOG_CATEGORY = "dev.refreshguard.sql";
    private static final Logger SQL_LOG = Logger.getLogger(SQL_LOG_CATEGORY);
    private static final int MAX_IP = 64;
    /**
     * Ids per IN list. Oracle allows 1,000 list entries and SQL Server 2,100 parameters per statement; 500 stays
     * well within both, and within every other database Keycloak supports.
     */
    static final int CHUNK = 500;

    private final EntityManager em;
    private final SuccessorSeal seal = new SuccessorSeal();

    private FamilyLedger(EntityManager em) {
        this.em = em;
    }

    public static FamilyLedger of(KeycloakSession session) {
        return new FamilyLedger(session.getProvider(JpaConnectionProvider.class).getEntityManager());
    }

    public void start(NewFamily f) {
        em.createNativeQuery("INSERT INTO RG_FAMILY (" + COLUMNS + ") VALUES"
                        + " (:id, :realm, :client, :user, :session, :offline, :parent, 0, :now, :now, :ip, 'ACTIVE', 0, NULL)")
                .setParameter("id", f.id())
                .setParameter("realm", f.realmId())
                .setParameter("client", f.clientUuid())
                .setParameter("user", f.userId())
                .setParameter("session", f.sessionId())
                .setParameter("offline", f.offline())
                .setParameter("parent", orEmpty(f.parentId()))
                .setParameter("now", f.createdAt())
                .setParameter("ip", clip(f.ip()))
                .executeUpdate();
    }

    /**
     * The adopt step for a token issued before the realm was protected: its family gets an id derived from the
     * token itself ({@link FamilyClaims#adoptedId}), so every presentation of that token, on any node, names the
     * same row; the row is inserted only if absent, then the normal rotate from generation 0 decides. The first
     * presentation wins; every later one is reuse (or a grace replay).
     *
     * @param rotating false when the client's policy does not rotate: the family is only recorded
     * @param stale whether a newer token of the same client session exists: such a token is never adopted, only
     *              judged against a family that an earlier presentation adopted
     */
    public RotationOutcome adopt(NewFamily f, boolean stale, SqlDialect dialect, FamilyClaims adopted, String presentedToken,
                                 long now, String ip, int graceSeconds, boolean rotating) {
        if (!stale && (dialect.atomic() || lockedRow(f.id()).isEmpty())) {
            em.createNativeQuery(dialect.insertIfAbsent("RG_FAMILY", COLUMNS,
                            ":id, :realm, :client, :user, :session, :offline, :parent, 0, :now, :now, :ip, 'ACTIVE', 0, NULL"))
                    .setParameter("id", f.id())
                    .setParameter("realm", f.realmId())
                    .setParameter("client", f.clientUuid())
                    .setParameter("user", f.userId())
                    .setParameter("session", f.sessionId())
                    .setParameter("offline", f.offline())
                    .setParameter("parent", "")
                    .setParameter("now", f.createdAt())
                    .setParameter("ip", clip(f.ip()))
                    .executeUpdate();
        }
        RotationOutcome outcome = rotating ? rotate(adopted, presentedToken, now, ip, graceSeconds) : keep(adopted);
        return stale && outcome instanceof Unknown ? new Stale() : outcome;
    }

    /**
     * The atomic rotate step: moves the family from the presented generation to the next one, or says why not.
     * It runs before the successor is encoded, so that the successor's claims can follow the outcome; the sealed
     * successor for grace replays is stored afterwards by {@link #keepSuccessor}.
     *
     * @param presentedToken the refresh token as the client sent it: the key that opens a sealed successor
     */
    public RotationOutcome rotate(FamilyClaims presented, String presentedToken, long now, String ip, int graceSeconds) {
        if (!plausibleId(presented.familyId())) {
            return new Unknown(presented.familyId());
        }
        int updated = rotateRow(presented, now, clip(ip));
        if (updated == 1) {
            return new Rotated();
        }
        return classify(presented, presentedToken, now, graceSeconds);
    }

    /**
     * The rotate UPDATE as plain JDBC on the request's own connection and transaction (JPA 3.2
     * {@code callWithConnection}): a native query would also build a query object, flush the persistence context
     * and walk every entity type Keycloak maps to evict caches after the write — work that this one statement on a
     * table no entity maps does not need, on every refresh.
     */
    private int rotateRow(FamilyClaims presented, long now, String ip) {
        if (SQL_LOG.isDebugEnabled()) {
            SQL_LOG.debug(ROTATE);
        }
        return em.callWithConnection((Connection connection) -> {
            try (PreparedStatement update = connection.prepareStatement(ROTATE)) {
                update.setInt(1, presented.generation() + 1);
                update.setLong(2, now);
                update.setString(3, ip);
                update.setString(4, presented.familyId());
                update.setInt(5, presented.generation());
                return update.executeUpdate();
            }
        });
    }

    /**
     * Keeps the successor just handed out, sealed with its parent token, for replays inside the grace window.
     * Only called with a grace window, in the transaction that rotated the family.
     */
    public void keepSuccessor(FamilyClaims successor, String successorToken, String parentToken, long successorExp) {
        em.createNativeQuery("UPDATE RG_FAMILY SET SUCCESSOR = :sealed, SUCCESSOR_EXP = :exp WHERE ID = :id AND GENERATION = :gen")
                .setParameter("sealed", seal.seal(successorToken, parentToken))
                .setParameter("exp", successorExp)
                .setParameter("id", successor.familyId())
                .setParameter("gen", successor.generation())
                .executeUpdate();
    }

    /** For a refresh without rotation: whether the presented token's family is still live. */
    public RotationOutcome keep(FamilyClaims presented) {
        Optional<Family> family = plausibleId(presented.familyId()) ? lockedRow(presented.familyId()).map(FamilyLedger::toFamily)
                : Optional.empty();
        if (family.isEmpty()) {
            return new Unknown(presented.familyId());
        }
        return family.get().revoked() ? new Revoked(family.get()) : new Rotated();
    }

    private RotationOutcome classify(FamilyClaims presented, String presentedToken, long now, int graceSeconds) {
        Optional<Object[]> found = lockedRow(presented.familyId());
        if (found.isEmpty()) {
            return new Unknown(presented.familyId());
        }
        Object[] row = found.get();
        Family family = toFamily(row);
        if (family.revoked()) {
            return new Revoked(family);
        }
        if (family.generation() <= presented.generation()) {
            // Newer than the ledger knows: only possible if the database was restored from a backup.
            return new Unknown(presented.familyId());
        }
        boolean justRotated = family.generation() == presented.generation() + 1;
        if (justRotated && graceSeconds > 0 && now - family.rotatedAt() <= graceSeconds) {
            Optional<String> successor = seal.open(text(row[14]), presentedToken);
            if (successor.isPresent()) {
                return new GraceReplay(successor.get(), number(row[15]));
            }
        }
        return justRotated
                ? new Reused(family, presented.generation(), now - family.rotatedAt(), family.rotatedByIp())
                : new Reused(family, presented.generation(), -1, null);
    }

    /**
     * A locking read: under MariaDB's REPEATABLE READ a plain SELECT would answer from the transaction's snapshot,
     * older than the row a concurrent winner just committed; FOR UPDATE reads (and holds) the latest row.
     */
    private Optional<Object[]> lockedRow(String familyId) {
        List<?> rows = em.createNativeQuery("SELECT " + COLUMNS + ", SUCCESSOR, SUCCESSOR_EXP FROM RG_FAMILY WHERE ID = :id FOR UPDATE")
                .setParameter("id", familyId)
                .getResultList();
        return rows.isEmpty() ? Optional.empty() : Optional.of((Object[]) rows.get(0));
    }

    public Optional<Family> find(String familyId) {
        return family(familyId, "");
    }

    public List<Family> ofUser(String realmId, String userId) {
        return ofUser(realmId, userId, null, 0, Integer.MAX_VALUE);
    }

    /** One page of a user's families, oldest first; {@code state} null for every state. */
    public List<Family> ofUser(String realmId, String userId, State state, int first, int max) {
        Query query = em.createNativeQuery("SELECT " + COLUMNS + " FROM RG_FAMILY WHERE REALM_ID = :realm AND USER_ID = :user"
                        + (state == null ? "" : " AND STATE = :state") + " ORDER BY CREATED_AT, ID")
                .setParameter("realm", realmId)
                .setParameter("user", userId)
                .setFirstResult(first)
                .setMaxResults(max);
        if (state != null) {
            query.setParameter("state", state.name());
        }
        return families(query);
    }

    /**
     * The family as {@link #find} reads it, with its row locked until the transaction ends, so that a child can be
     * started under it safely: a concurrent revocation waits for this transaction, then finds the child among the
     * descendants (and this read, a locking one, sees the latest committed state under any isolation level).
     */
    public Optional<Family> findForUpdate(String familyId) {
        return family(familyId, " FOR UPDATE");
    }

    private Optional<Family> family(String familyId, String lock) {
        if (!plausibleId(familyId)) {
            return Optional.empty();
        }
        List<?> rows = em.createNativeQuery("SELECT " + COLUMNS + " FROM RG_FAMILY WHERE ID = :id" + lock)
                .setParameter("id", familyId)
                .getResultList();
        return rows.isEmpty() ? Optional.empty() : Optional.of(toFamily((Object[]) rows.get(0)));
    }

    /**
     * The newest family of one client in one user session: the parent of an exchanged subject access token that
     * names no family of its own (issued by an older version, or without a refresh token).
     */
    public Optional<Family> newestOf(String realmId, String sessionId, String clientUuid) {
        List<Family> found = families(em.createNativeQuery("SELECT " + COLUMNS + " FROM RG_FAMILY WHERE REALM_ID = :realm"
                        + " AND SESSION_ID = :session AND CLIENT_ID = :client ORDER BY ROTATED_AT DESC, CREATED_AT DESC")
                .setParameter("realm", realmId)
                .setParameter("session", sessionId)
                .setParameter("client", clientUuid)
                .setMaxResults(1));
        return found.stream().findFirst();
    }

    /** The live families of one client in one user session (online or offline). */
    public List<Family> liveOfClientSession(String realmId, String sessionId, String clientUuid) {
        return families(em.createNativeQuery("SELECT " + COLUMNS + " FROM RG_FAMILY WHERE REALM_ID = :realm"
                        + " AND SESSION_ID = :session AND CLIENT_ID = :client AND STATE = 'ACTIVE'")
                .setParameter("realm", realmId)
                .setParameter("session", sessionId)
                .setParameter("client", clientUuid));
    }

    /**
     * Revokes a family and every family descended from it by token exchange, however large the tree: each
     * statement names at most {@link #CHUNK} ids, and every read that decides what to revoke is a locking read,
     * so it sees the latest committed rows (children an exchange committed a moment ago included) and nobody
     * changes them before this transaction ends.
     *
     * @return the families this call revoked (those already revoked are left as they were and not returned)
     */
    public List<Family> revokeWithDescendants(String familyId, RevocationReason reason, long now) {
        return revokeTrees(List.of(familyId), reason, now);
    }

    /**
     * The user session ended (logout): its online families can no longer be used and stop being live. Offline
     * families outlive it. The purge task finds every other way a session ends.
     */
    public int endOnlineSession(String realmId, String sessionId, long now) {
        return em.createNativeQuery("UPDATE RG_FAMILY SET STATE = 'ENDED', REVOKED_AT = :now, SUCCESSOR = ''"
                        + " WHERE REALM_ID = :realm AND SESSION_ID = :session AND OFFLINE = FALSE AND STATE = 'ACTIVE'")
                .setParameter("now", now)
                .setParameter("realm", realmId)
                .setParameter("session", sessionId)
                .executeUpdate();
    }

    /** Revokes every family of one user session (online tokens only: offline sessions outlive it), with descendants. */
    public List<Family> revokeOnlineSession(String realmId, String sessionId, RevocationReason reason, long now) {
        List<String> live = ids(em.createNativeQuery("SELECT ID FROM RG_FAMILY WHERE REALM_ID = :realm"
                        + " AND SESSION_ID = :session AND OFFLINE = FALSE AND STATE = 'ACTIVE' FOR UPDATE")
                .setParameter("realm", realmId)
                .setParameter("session", sessionId));
        return revokeTrees(live, reason, now);
    }

    /** Revokes every family of a user, online and offline, with descendants. */
    public List<Family> revokeUser(String realmId, String userId, RevocationReason reason, long now) {
        List<String> live = ids(em.createNativeQuery("SELECT ID FROM RG_FAMILY WHERE REALM_ID = :realm"
                        + " AND USER_ID = :user AND STATE = 'ACTIVE' FOR UPDATE")
                .setParameter("realm", realmId)
                .setParameter("user", userId));
        return revokeTrees(live, reason, now);
    }

    /** Level by level from the roots down; {@code seen} guards against a cycle in stored parent links. */
    private List<Family> revokeTrees(List<String> roots, RevocationReason reason, long now) {
        List<Family> revoked = new ArrayList<>();
        Set<String> seen = new HashSet<>(roots);
        List<String> level = new ArrayList<>(seen);
        while (!level.isEmpty()) {
            List<String> next = new ArrayList<>();
            for (List<String> chunk : chunks(level)) {
                List<String> live = new ArrayList<>();
                for (Family f : families(em.createNativeQuery("SELECT " + COLUMNS + " FROM RG_FAMILY WHERE ID IN (:ids)"
                        + " FOR UPDATE").setParameter("ids", chunk))) {
                    if (f.state() == State.ACTIVE) {
                        revoked.add(f);
                        live.add(f.id());
                    }
                }
                if (!live.isEmpty()) {
                    markRevoked(live, reason, now);
                }
                for (String child : ids(em.createNativeQuery("SELECT ID FROM RG_FAMILY WHERE PARENT_ID IN (:ids) FOR UPDATE")
                        .setParameter("ids", chunk))) {
                    if (seen.add(child)) {
                        next.add(child);
                    }
                }
            }
            level = next;
        }
        return revoked;
    }

    private void markRevoked(List<String> ids, RevocationReason reason, long now) {
        em.createNativeQuery("UPDATE RG_FAMILY SET STATE = 'REVOKED', REVOKED_AT = :now, REVOKED_REASON = :reason,"
                        + " SUCCESSOR = '' WHERE ID IN (:ids) AND STATE = 'ACTIVE'")
                .setParameter("now", now)
                .setParameter("reason", reason.word())
                .setParameter("ids", ids)
                .executeUpdate();
    }

    /** Consecutive slices of at most {@link #CHUNK} ids: one IN list per statement stays within every database's limits. */
    static List<List<String>> chunks(List<String> ids) {
        List<List<String>> out = new ArrayList<>();
        for (int from = 0; from < ids.size(); from += CHUNK) {
            out.add(ids.subList(from, Math.min(ids.size(), from + CHUNK)));
        }
        return out;
    }

    private static List<String> ids(Query query) {
        List<String> out = new ArrayList<>();
        for (Object id : query.getResultList()) {
            out.add((String) id);
        }
        return out;
    }

    private static List<Family> families(Query query) {
        List<Family> out = new ArrayList<>();
        for (Object row : query.getResultList()) {
            out.add(toFamily((Object[]) row));
        }
        return out;
    }

    private static Family toFamily(Object[] r) {
        return new Family((String) r[0], (String) r[1], (String) r[2], (String) r[3], (String) r[4], bool(r[5]),
                absentIfEmpty((String) r[6]), (int) number(r[7]), number(r[8]), number(r[9]), absentIfEmpty((String) r[10]),
                State.valueOf((String) r[11]), number(r[12]), (String) r[13]);
    }

    private static long number(Object value) {
        return value == null ? 0 : ((Number) value).longValue();
    }

    private static boolean bool(Object value) {
        if (value instanceof Boolean b) {
            return b;
        }
        return value instanceof Number n && n.intValue() != 0;
    }

    private static String text(Object value) {
        if (value instanceof Clob clob) {
            try {
                return clob.getSubString(1, (int) clob.length());
            } catch (SQLException e) {
                return null;
            }
        }
        return (String) value;
    }

    /**
     * Family ids are Keycloak-generated (UUID text). Anything else names no family and never reaches the database:
     * an id from an admin's URL may hold a NUL, which PostgreSQL refuses in text parameters (a 5xx, not a 404).
     */
    private static boolean plausibleId(String id) {
        if (id == null || id.isEmpty() || id.length() > 36) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    // Parameters are never bound as null: untyped null binds differ between databases; "" means absent.
    private static String clip(String ip) {
        String value = orEmpty(ip);
        return value.length() <= MAX_IP ? value : value.substring(0, MAX_IP);
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value;
    }

    private static String absentIfEmpty(String value) {
        return value == null || value.isEmpty() ? null : value;
    }
}
