package dev.refreshguard.admin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.ws.rs.ForbiddenException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.keycloak.events.admin.OperationType;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.services.ErrorResponse;
import org.keycloak.services.ErrorResponseException;
import org.keycloak.services.resources.admin.AdminEventBuilder;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;

import dev.refreshguard.alert.AlertVocabulary;
import dev.refreshguard.policy.Attribute;
import dev.refreshguard.policy.KeycloakRotation;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.policy.Setting;
import dev.refreshguard.reuse.Revocation;
import dev.refreshguard.reuse.RevocationScope;
import dev.refreshguard.reuse.RevokeFamily;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.RevocationReason;
import dev.refreshguard.store.StoreFailure;

/**
 * {@code /admin/realms/{realm}/refresh-guard}: the effective policy of a client, a user's families, and revoking a
 * family by hand. Keycloak has authenticated the caller before this runs (no token: 401). Each method authorizes as
 * Keycloak's own endpoint for the same data does, with Keycloak's evaluator (roles, and fine-grained admin permissions
 * v2 where the realm enables them): a user's families as {@code GET users/{id}}, a revoke as a manage action on the
 * family's user, a client's policy as {@code GET clients/{id}} (or view-realm). An unknown id is 404 only to a caller
 * who could search for such ids, else 403 as for a known one, exactly as Keycloak answers.
 */
final class GuardAdminResource {

    static final String ADMIN_EVENT_RESOURCE = "REFRESH_GUARD_FAMILY";
    /** Longer ids cannot be stored (RG_FAMILY.ID, USER_ENTITY.ID, CLIENT.CLIENT_ID): refused without a look-up. */
    private static final int MAX_FAMILY_ID = 36;
    private static final int MAX_ID = 255;
    static final int DEFAULT_PAGE = 100;
    static final int MAX_PAGE = 1000;
    private static final String STATES = java.util.Arrays.stream(Family.State.values()).map(Enum::name)
            .collect(java.util.stream.Collectors.joining(", "));

    private final KeycloakSession session;
    private final RealmModel realm;
    private final AdminPermissionEvaluator auth;
    private final AdminEventBuilder adminEvent;

    GuardAdminResource(KeycloakSession session, RealmModel realm, AdminPermissionEvaluator auth, AdminEventBuilder adminEvent) {
        this.session = session;
        this.realm = realm;
        this.auth = auth;
        this.adminEvent = adminEvent;
    }

    @GET
    @Path("policy")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> policy(@QueryParam("client_id") String clientId) {
        // view-realm sees every client's policy; anyone else as GET clients/{id}: the client's view permission (a
        // fine-grained one may name this client only), and an unknown client is 404 only to those who may list clients.
        // A missing parameter (400) says nothing about which clients exist.
        boolean realmViewer = auth.realm().canViewRealm();
        String wanted = required("client_id", clientId);
        ClientModel client = wanted.length() > MAX_ID ? null : session.clients().getClientByClientId(realm, wanted);
        if (client == null) {
            throw realmViewer || auth.clients().canList() ? notFound("Client not found") : new ForbiddenException();
        }
        if (!realmViewer) {
            auth.clients().requireView(client);
        }
        RefreshGuard guard = RefreshGuard.of(session);
        Policy policy = guard.policy(client);

        Map<String, Object> attributes = new LinkedHashMap<>();
        for (Attribute attribute : Attribute.values()) {
            Setting setting = policy.setting(attribute);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("value", setting.value());
            entry.put("source", setting.source().word());
            entry.put("valid", setting.valid());
            if (!setting.valid()) {
                entry.put("rejectedValue", setting.rejectedValue());
                entry.put("problem", setting.problem());
            }
            attributes.put(attribute.key(), entry);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("realm", realm.getName());
        body.put("clientId", client.getClientId());
        body.put("protected", guard.protection(realm) == Protection.ON);
        body.put("attributes", attributes);
        // What Keycloak's own settings do to rotation, with the setting that causes it.
        body.put("rotation", KeycloakRotation.describe(session, realm, client, policy));
        return body;
    }

    /**
     * One page of a user's families, oldest first, paged as Keycloak's admin API pages: {@code first} (default 0) and
     * {@code max} (default 100, at most 1000) are upper bounds, so the page holds at most {@code max} families.
     * Parameters are read as text so that a non-number is this API's 400, not the framework's 404.
     */
    @GET
    @Path("families")
    @Produces(MediaType.APPLICATION_JSON)
    public List<Map<String, Object>> families(@QueryParam("user_id") String userId, @QueryParam("first") String first,
                                              @QueryParam("max") String max, @QueryParam("state") String state) {
        // Input first: a malformed request (400) says nothing about which users exist. Then exactly GET users/{id}.
        String wanted = required("user_id", userId);
        int from = paging("first", first, 0);
        int size = Math.min(paging("max", max, DEFAULT_PAGE), MAX_PAGE);
        Family.State only = state(state);
        UserModel user = plausibleUserId(wanted) ? session.users().getUserById(realm, wanted) : null;
        if (user == null) {
            throw unknown("User not found");
        }
        auth.users().requireView(user);
        List<Map<String, Object>> out = new ArrayList<>();
        if (size == 0) {
            return out;
        }
        for (Family family : RefreshGuard.of(session).store().queries().pageOfUser(realm.getId(), user.getId(), only, from, size)) {
            out.add(describe(family));
        }
        return out;
    }

    private static int paging(String name, String value, int fallback) {
        if (value == null || value.isEmpty()) {
            return fallback;
        }
        try {
            int parsed = Integer.parseInt(value.trim());
            if (parsed >= 0) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw ErrorResponse.error("Query parameter " + name + " accepts a whole number from 0 to " + Integer.MAX_VALUE,
                Response.Status.BAD_REQUEST);
    }

    private static Family.State state(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        for (Family.State s : Family.State.values()) {
            if (s.name().equalsIgnoreCase(value.trim())) {
                return s;
            }
        }
        throw ErrorResponse.error("Query parameter state accepts " + STATES, Response.Status.BAD_REQUEST);
    }

    @POST
    @Path("families/{id}/revoke")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> revoke(@PathParam("id") String familyId) {
        Optional<Family> found;
        try {
            found = familyId == null || familyId.length() > MAX_FAMILY_ID ? Optional.empty()
                    : RefreshGuard.of(session).store().queries().find(familyId);
        } catch (RuntimeException e) {
            throw unavailable(e, familyId);
        }
        // A family of another realm is as unknown here as one that never existed, and so is one whose user is gone.
        Family family = found.filter(f -> f.realmId().equals(realm.getId())).orElse(null);
        UserModel user = family == null ? null : session.users().getUserById(realm, family.userId());
        if (user == null) {
            throw unknown("Family not found");
        }
        // Revoking ends the family's client session: a manage action on its user, as Keycloak's own user logout.
        auth.users().requireManage(user);

        Revocation.Result revoked;
        try {
            revoked = new RevokeFamily().apply(RevocationScope.of(session, realm, family, RevocationReason.ADMIN));
        } catch (RuntimeException e) {
            throw unavailable(e, family.id());
        }
        String clientId = clientIdOf(family);

        adminEvent.operation(OperationType.ACTION).resource(ADMIN_EVENT_RESOURCE)
                .resourcePath(session.getContext().getUri())
                .detail(AlertVocabulary.FAMILY_ID, family.id())
                .detail(AlertVocabulary.USER_ID, family.userId())
                .detail(AlertVocabulary.CLIENT_ID, clientId)
                .detail(AlertVocabulary.FAMILIES_REVOKED, Integer.toString(revoked.families()))
                .success();

        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", family.id());
        // A family that was no longer active (ENDED, or REVOKED before) stays as it was: say so, not "REVOKED".
        body.put("state", (family.state() == Family.State.ACTIVE ? Family.State.REVOKED : family.state()).name());
        body.put("familiesRevoked", revoked.families());
        body.put("clientSessionsEnded", revoked.sessions());
        return body;
    }

    /**
     * The admin API answers no 5xx for what the family is: locked past {@code lock-timeout} (a dead node's transaction)
     * is a 409 the responder can retry. A database that cannot be reached is the server's fault: 503. Nothing was
     * revoked either way (rolled back); any other failure stays as it is.
     */
    private RuntimeException unavailable(RuntimeException failure, String familyId) {
        Optional<StoreFailure> fault = RefreshGuard.of(session).ledgerUnavailable(failure, "Admin revocation", familyId,
                kind -> kind == StoreFailure.LOCK_TIMEOUT ? "409" : "503");
        if (fault.isEmpty()) {
            return failure;
        }
        return fault.get() == StoreFailure.LOCK_TIMEOUT
                ? ErrorResponse.error("The family is locked by another transaction; nothing was revoked, retry",
                        Response.Status.CONFLICT)
                : ErrorResponse.error("The refresh token ledger cannot be written now; nothing was revoked, retry",
                        Response.Status.SERVICE_UNAVAILABLE);
    }

    private Map<String, Object> describe(Family family) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("id", family.id());
        f.put("clientId", clientIdOf(family));
        f.put("parentId", family.parentId());
        f.put("generation", family.generation());
        f.put("offline", family.offline());
        f.put("created", family.createdAt());
        f.put("lastRotation", family.rotatedAt());
        f.put("state", family.state().name());
        f.put("revokedAt", family.revoked() ? family.revokedAt() : null);
        f.put("revokedReason", family.revokedReason());
        f.put("endedAt", family.ended() ? family.endedAt() : null);
        f.put("sessionId", family.sessionId());
        return f;
    }

    /** The family's client as admins know it; its internal id when the client was deleted since. */
    private String clientIdOf(Family family) {
        ClientModel client = session.clients().getClientById(realm, family.clientUuid());
        return client == null ? family.clientUuid() : client.getClientId();
    }

    private static String required(String name, String value) {
        if (value == null || value.isBlank()) {
            throw ErrorResponse.error("Query parameter " + name + " is required", Response.Status.BAD_REQUEST);
        }
        return value;
    }

    /**
     * Keycloak's user look-up reads "f:provider:id" as a federated id and fails on "f:x" without a second colon;
     * such ids, and ids longer than any stored one, name no user.
     */
    private static boolean plausibleUserId(String id) {
        return id.length() <= MAX_ID && (!id.startsWith("f:") || id.indexOf(':', 2) > 2);
    }

    /**
     * An id that names nothing here, answered as Keycloak's {@code users/{id}} answers one: 404 to a caller who may
     * search users, 403 to anyone else (as for a user they may not see), so that caller learns nothing from it.
     */
    private RuntimeException unknown(String message) {
        return auth.users().canQuery() ? notFound(message) : new ForbiddenException();
    }

    private static ErrorResponseException notFound(String message) {
        return ErrorResponse.error(message, Response.Status.NOT_FOUND);
    }
}
