package dev.refreshguard.family;

import java.sql.Clob;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import jakarta.persistence.EntityManager;
import jakarta.persistence.Query;

import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.KeycloakSession;

import dev.refreshguard.family.Family.State;
import dev.refreshguard.family.RotationOutcome.GraceReplay;
import dev.refreshguard.family.RotationOutcome.Reused;
import dev.refreshguard.family.RotationOutcome.Revoked;
import dev.refreshguard.family.RotationOutcome.Rotated;
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
    private static final int MAX_IP = 64;

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
     * The atomic rotate step: moves the family from the presented generation to the next one, or says why not.
     *
     * @param presentedToken the refresh token as the client sent it: the key that seals its successor
     * @param successorToken the refresh token about to be handed out
     */
    public RotationOutcome rotate(FamilyClaims presented, String presentedToken, String successorToken, long successorExp,
                                  long now, String ip, int graceSeconds) {
        // The sealed successor is only needed for grace replays; without a grace window nothing is kept.
        String sealed = graceSeconds > 0 ? seal.seal(successorToken, presentedToken) : "";
        int updated = em.createNativeQuery("UPDATE RG_FAMILY SET GENERATION = :next, ROTATED_AT = :now, ROTATED_BY_IP = :ip,"
                        + " SUCCESSOR = :sealed, SUCCESSOR_EXP = :exp"
                        + " WHERE ID = :id AND GENERATION = :gen AND STATE = 'ACTIVE'")
                .setParameter("next", presented.generation() + 1)
                .setParameter("now", now)
                .setParameter("ip", clip(ip))
                .setParameter("sealed", sealed)
                .setParameter("exp", successorExp)
                .setParameter("id", presented.familyId())
                .setParameter("gen", presented.generation())
                .executeUpdate();
        if (updated == 1) {
            return new Rotated();
        }
        return classify(presented, presentedToken, now, graceSeconds);
    }

    private RotationOutcome classify(FamilyClaims presented, String presentedToken, long now, int graceSeconds) {
        // A locking read: under REPEATABLE READ (MariaDB/MySQL) a plain SELECT can see the snapshot from before the
        // rotation that just beat this request, and take a lost race for an unknown family.
        List<?> rows = em.createNativeQuery("SELECT " + COLUMNS + ", SUCCESSOR, SUCCESSOR_EXP FROM RG_FAMILY WHERE ID = :id"
                        + " FOR UPDATE")
                .setParameter("id", presented.familyId())
                .getResultList();
        if (rows.isEmpty()) {
            return new Unknown(presented.familyId());
        }
        Object[] row = (Object[]) rows.get(0);
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

    public Optional<Family> find(String familyId) {
        if (!plausibleId(familyId)) {
            return Optional.empty();
        }
        List<?> rows = em.createNativeQuery("SELECT " + COLUMNS + " FROM RG_FAMILY WHERE ID = :id")
                .setParameter("id", familyId)
                .getResultList();
        return rows.isEmpty() ? Optional.empty() : Optional.of(toFamily((Object[]) rows.get(0)));
    }

    public List<Family> ofUser(String realmId, String userId) {
        return families(em.createNativeQuery("SELECT " + COLUMNS + " FROM RG_FAMILY WHERE REALM_ID = :realm AND USER_ID = :user"
                        + " ORDER BY CREATED_AT, ID")
                .setParameter("realm", realmId)
                .setParameter("user", userId));
    }

    /** The newest live family of one client in one user session: the family an access token of that client belongs to. */
    public Optional<Family> newestOf(String realmId, String sessionId, String clientUuid) {
        List<Family> found = families(em.createNativeQuery("SELECT " + COLUMNS + " FROM RG_FAMILY WHERE REALM_ID = :realm"
                        + " AND SESSION_ID = :session AND CLIENT_ID = :client ORDER BY ROTATED_AT DESC, CREATED_AT DESC")
                .setParameter("realm", realmId)
                .setParameter("session", sessionId)
                .setParameter("client", clientUuid)
                .setMaxResults(1));
        return found.stream().findFirst();
    }

    /**
     * Holds a live family's row until the transaction ends, so that a child can be started under it safely: a
     * concurrent revocation waits for this transaction, then finds the child among the descendants.
     *
     * @return false when the family is revoked (or unknown)
     */
    public boolean holdLive(String familyId) {
        return em.createNativeQuery("UPDATE RG_FAMILY SET STATE = STATE WHERE ID = :id AND STATE = 'ACTIVE'")
                .setParameter("id", familyId)
                .executeUpdate() == 1;
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
     * Revokes a family and every family descended from it by token exchange.
     *
     * @return the families this call revoked (those already revoked are left as they were and not returned)
     */
    public List<Family> revokeWithDescendants(String familyId, String reason, long now) {
        List<Family> revoked = new ArrayList<>();
        List<String> level = List.of(familyId);
        List<String> seen = new ArrayList<>();
        while (!level.isEmpty() && seen.size() < 10_000) {
            seen.addAll(level);
            for (Family f : families(em.createNativeQuery("SELECT " + COLUMNS + " FROM RG_FAMILY WHERE ID IN (:ids)")
                    .setParameter("ids", level))) {
                if (!f.revoked()) {
                    revoked.add(f);
                }
            }
            markRevoked(level, reason, now);
            List<String> children = new ArrayList<>();
            // Locking read, as in classify: a child committed by a concurrent exchange must be seen under REPEATABLE READ.
            for (Object id : em.createNativeQuery("SELECT ID FROM RG_FAMILY WHERE PARENT_ID IN (:ids) FOR UPDATE")
                    .setParameter("ids", level).getResultList()) {
                if (!seen.contains(id)) {
                    children.add((String) id);
                }
            }
            level = children;
        }
        return revoked;
    }

    /** Revokes every family of one user session (online tokens only: offline sessions outlive it). */
    public List<Family> revokeOnlineSession(String realmId, String sessionId, String reason, long now) {
        List<Family> live = families(em.createNativeQuery("SELECT " + COLUMNS + " FROM RG_FAMILY WHERE REALM_ID = :realm"
                        + " AND SESSION_ID = :session AND OFFLINE = FALSE AND STATE = 'ACTIVE'")
                .setParameter("realm", realmId)
                .setParameter("session", sessionId));
        return revokeAll(live, reason, now);
    }

    /** Revokes every family of a user, online and offline. */
    public List<Family> revokeUser(String realmId, String userId, String reason, long now) {
        List<Family> live = families(em.createNativeQuery("SELECT " + COLUMNS + " FROM RG_FAMILY WHERE REALM_ID = :realm"
                        + " AND USER_ID = :user AND STATE = 'ACTIVE'")
                .setParameter("realm", realmId)
                .setParameter("user", userId));
        return revokeAll(live, reason, now);
    }

    private List<Family> revokeAll(List<Family> live, String reason, long now) {
        List<Family> revoked = new ArrayList<>();
        for (Family f : live) {
            revoked.addAll(revokeWithDescendants(f.id(), reason, now));
        }
        return revoked;
    }

    private void markRevoked(List<String> ids, String reason, long now) {
        em.createNativeQuery("UPDATE RG_FAMILY SET STATE = 'REVOKED', REVOKED_AT = :now, REVOKED_REASON = :reason,"
                        + " SUCCESSOR = '' WHERE ID IN (:ids) AND STATE = 'ACTIVE'")
                .setParameter("now", now)
                .setParameter("reason", reason)
                .setParameter("ids", ids)
                .executeUpdate();
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
