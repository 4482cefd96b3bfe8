package dev.refreshguard.family;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FamilyClaimsTest {

    @Test
    void rotationMovesToTheNextGenerationAndKeepsTheStart() {
        FamilyClaims claims = new FamilyClaims("f", 3, 1000);
        assertThat(claims.successor(true)).isEqualTo(new FamilyClaims("f", 4, 1000));
        assertThat(claims.successor(false)).isEqualTo(claims);
    }
}
