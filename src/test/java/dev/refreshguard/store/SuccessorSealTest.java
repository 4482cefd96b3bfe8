package dev.refreshguard.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SuccessorSealTest {

    private final SuccessorSeal seal = new SuccessorSeal();

    @Test
    void onlyTheParentTokenOpensTheSealedSuccessor() {
        String sealed = seal.seal("successor.jwt.value", "parent.jwt.value");
        assertThat(sealed).doesNotContain("successor");
        assertThat(seal.open(sealed, "parent.jwt.value")).contains("successor.jwt.value");
        assertThat(seal.open(sealed, "parent.jwt.valuf")).isEmpty();
        assertThat(seal.open(sealed, "")).isEmpty();
    }

    @Test
    void sealingTwiceGivesDifferentCiphertexts() {
        assertThat(seal.seal("s", "p")).isNotEqualTo(seal.seal("s", "p"));
    }

    @Test
    void garbageNeverOpens() {
        assertThat(seal.open("!!not-base64!!", "p")).isEmpty();
        assertThat(seal.open("", "p")).isEmpty();
        assertThat(seal.open(null, "p")).isEmpty();
        assertThat(seal.open("AAAA", "p")).isEmpty();
    }
}
