package dev.refreshguard.store;

import java.util.function.Supplier;

import jakarta.persistence.EntityManager;

/**
 * Every statement on refresh-guard's tables (RG_FAMILY, RG_SCHEDULE) and on the Keycloak tables it reads, for one
 * Keycloak session: each part runs on that session's connection and transaction. Nothing outside this package writes SQL.
 */
public final class Store {

    private final EntityManager em;
    private final Supplier<SqlDialect> dialect;
    /** The most any statement that may wait for a family's row lock waits (see {@link LockWait}). */
    private final int lockTimeoutSeconds;
    private FamilyLedger ledger;

    public Store(EntityManager em, Supplier<SqlDialect> dialect, int lockTimeoutSeconds) {
        this.em = em;
        this.dialect = dialect;
        this.lockTimeoutSeconds = lockTimeoutSeconds;
    }

    /** The refresh hot path: start, adopt, rotate, keep. */
    public FamilyLedger ledger() {
        if (ledger == null) {
            ledger = new FamilyLedger(em, dialect, lockTimeoutSeconds);
        }
        return ledger;
    }

    public FamilyQueries queries() {
        return new FamilyQueries(em, lockTimeoutSeconds);
    }

    public FamilyRevocations revocations() {
        return new FamilyRevocations(em, lockTimeoutSeconds);
    }

    public FamilyCleanup cleanup() {
        return new FamilyCleanup(em);
    }

    public ScheduleClaim schedule() {
        return new ScheduleClaim(em);
    }

    public KeycloakTables keycloakTables() {
        return new KeycloakTables(em);
    }
}
