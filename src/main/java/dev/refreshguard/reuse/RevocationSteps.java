package dev.refreshguard.reuse;

import java.util.List;

import dev.refreshguard.store.Family;

/**
 * The steps a revocation action is made of, around one family: which families the ledger revokes and which sessions
 * end. {@link RevocationScope} does them against the ledger and Keycloak's sessions; the actions only choose and
 * combine them, so each action's choice is unit-tested with a fake.
 */
public interface RevocationSteps {

    /** Revokes the family and its token-exchange descendants; returns the families that changed to REVOKED. */
    List<Family> revokeTree();

    /** Revokes every online family of the family's user session, with descendants. */
    List<Family> revokeOnlineSession();

    /** Revokes every family of the family's user, online and offline, with descendants. */
    List<Family> revokeUser();

    /** Ends the client sessions the given families' tokens live in; returns how many ended. */
    int endClientSessions(List<Family> families);

    /** Ends the family's online user session for all its clients, with backchannel logout; false when it is gone. */
    boolean endUserSession();

    /** Ends every online and offline session of the family's user; returns how many ended (0 when the user is gone). */
    int endAllSessionsOfUser();
}
