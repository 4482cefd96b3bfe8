package dev.refreshguard.store;

import java.util.function.Supplier;

import jakarta.persistence.EntityManager;

/**
 * Every statement on refresh-guard's tables (RG_FAMILY, RG_SCHEDULE) and on the Keycloak tables it reads, for one
 * Keycloak session: each part runs on that session's connection and transaction. Nothing outside this package writes SQL.
 */
public final class Store {

    /**
     * The Hibernate session property with which Keycloak's {@code org.keycloak.connections.jpa.AsyncCommitIntegrator}
     * (PostgreSQL only, Keycloak 26.x) keeps a transaction's commit synchronous. Without it, a transaction whose only
     * <em>entity</em> writes are of types that allow it (user and client sessions, events, single-use objects) ends
     * with {@code SET LOCAL synchronous_commit TO OFF}: PostgreSQL acknowledges the COMMIT before its WAL record is
     * written, and a crash of the database process (or its host) within the next few hundred milliseconds loses it.
     * refresh-guard's writes are native statements and plain JDBC, which that listener does not see, so a refresh's
     * rotation — already answered 200 with its successor — was committed that way. A family's ledger must be durable
     * once the successor is served, so every part of the store that writes requires a synchronous commit.
     */
    static final String SYNC_COMMIT_REQUIRED = "kc.sync_commit_required";

    private final EntityManager em;
    private final Supplier<SqlDialect> dialect;
    /** The most any statement that may wait for a family's row lock waits (see {@link LockWait}). */
    private final int lockTimeoutSeconds;
    private FamilyLedger ledger;
    private boolean syncCommitRequired;

    public Store(EntityManager em, Supplier<SqlDialect> dialect, int lockTimeoutSeconds) {
        this.em = em;
        this.dialect = dialect;
        this.lockTimeoutSeconds = lockTimeoutSeconds;
    }

    /** The refresh hot path: start, adopt, rotate, keep. */
    public FamilyLedger ledger() {
        requireSyncCommit();
        if (ledger == null) {
            ledger = new FamilyLedger(em, dialect, lockTimeoutSeconds);
        }
        return ledger;
    }

    public FamilyQueries queries() {
        return new FamilyQueries(em, lockTimeoutSeconds);
    }

    public FamilyRevocations revocations() {
        requireSyncCommit();
        return new FamilyRevocations(em, lockTimeoutSeconds);
    }

    public FamilyCleanup cleanup() {
        requireSyncCommit();
        return new FamilyCleanup(em);
    }

    public ScheduleClaim schedule() {
        requireSyncCommit();
        return new ScheduleClaim(em);
    }

    public KeycloakTables keycloakTables() {
        return new KeycloakTables(em);
    }

    /** This session's transaction commits synchronously: see {@link #SYNC_COMMIT_REQUIRED}. Costs no round trip. */
    private void requireSyncCommit() {
        if (!syncCommitRequired) {
            em.setProperty(SYNC_COMMIT_REQUIRED, Boolean.TRUE);
            syncCommitRequired = true;
        }
    }
}
