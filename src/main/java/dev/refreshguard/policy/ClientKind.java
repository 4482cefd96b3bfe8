package dev.refreshguard.policy;

/** The two facts about a client that policy rules depend on (RFC 9700 §2.2.2). */
public record ClientKind(boolean publicClient, boolean dpopBound) {
    public static final ClientKind CONFIDENTIAL = new ClientKind(false, false);

    /** A public client whose tokens are not sender-constrained: its refresh tokens must rotate (RFC 9700 §2.2.2). */
    public boolean needsRotation() {
        return publicClient && !dpopBound;
    }
}
