package dev.refreshguard.family;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** Id lists are cut into statements of at most 500 ids, in order, none lost. */
class FamilyLedgerChunksTest {

    @Test
    void everyIdLandsInExactlyOneChunkOfAtMostTheLimit() {
        for (int size : new int[] {0, 1, FamilyLedger.CHUNK - 1, FamilyLedger.CHUNK, FamilyLedger.CHUNK + 1, 10_001}) {
            List<String> ids = IntStream.range(0, size).mapToObj(Integer::toString).toList();
            List<List<String>> chunks = FamilyLedger.chunks(ids);
            assertThat(chunks).allSatisfy(c -> assertThat(c).isNotEmpty().hasSizeLessThanOrEqualTo(FamilyLedger.CHUNK));
            assertThat(chunks).hasSize((size + FamilyLedger.CHUNK - 1) / FamilyLedger.CHUNK);
            List<String> joined = new ArrayList<>();
            chunks.forEach(joined::addAll);
            assertThat(joined).isEqualTo(ids);
        }
        assertThat(FamilyLedger.CHUNK).isEqualTo(500);
    }

    @Test
    void revocationReasonsAreStoredByTheirWords() {
        assertThat(RevocationReason.fromWord("reuse")).contains(RevocationReason.REUSE);
        assertThat(RevocationReason.fromWord("admin")).contains(RevocationReason.ADMIN);
        assertThat(RevocationReason.fromWord("revocation-endpoint")).contains(RevocationReason.REVOCATION_ENDPOINT);
        assertThat(RevocationReason.fromWord("something-else")).isEmpty();
    }
}
