package io.tailwire.sim.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checker must reject what is wrong, or every PASS of the simulator means nothing. */
class OutputCheckerTest {
    private static SourceFile.Gen gen(int index, SourceFile.End end, String text) {
        SourceFile.Gen g = new SourceFile.Gen(index);
        g.end = end;
        g.bytes.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
        return g;
    }

    private static byte[] cat(String... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (String p : parts) {
            b.writeBytes(p.getBytes(StandardCharsets.US_ASCII));
        }
        return b.toByteArray();
    }

    private static final String G0 = "Aabc\nAdefgh\nAij\n";
    private static final String G1 = "Bkl\nBmnop\n";
    private static final String G2 = "Cqrs\n";

    private static List<SourceFile.Gen> gens(SourceFile.End first) {
        return List.of(gen(0, first, G0), gen(1, SourceFile.End.RENAMED, G1), gen(2, SourceFile.End.ACTIVE, G2));
    }

    @Test
    void theExactConcatenationPasses() {
        OutputChecker.Result r = OutputChecker.check(cat(G0, G1, G2), gens(SourceFile.End.RENAMED), List.of());
        assertNull(r.violation());
        assertEquals(0, r.reportedLoss() + r.sourceDestroyed());
    }

    @Test
    void aDuplicatedLineFails() {
        assertNotNull(OutputChecker.check(cat(G0, "Bkl\n", G1, G2), gens(SourceFile.End.RENAMED), List.of())
            .violation());
    }

    @Test
    void swappedGenerationsFail() {
        assertNotNull(OutputChecker.check(cat(G1, G0, G2), gens(SourceFile.End.RENAMED), List.of())
            .violation());
    }

    @Test
    void bytesMissingInTheMiddleFailEvenWithALossReportedElsewhere() {
        String hole = G0.substring(0, 5) + G0.substring(8);
        List<AgentNode.Loss> loss = List.of(new AgentNode.Loss("/p", 2, 0, 3, "other"));
        assertNotNull(OutputChecker.check(cat(hole, G1, G2), gens(SourceFile.End.RENAMED), loss).violation());
    }

    @Test
    void anUnreportedMissingSuffixOfARenamedGenerationFails() {
        String cut = G0.substring(0, 7);
        OutputChecker.Result r = OutputChecker.check(cat(cut, G1, G2), gens(SourceFile.End.RENAMED), List.of());
        assertNotNull(r.violation());
        assertTrue(r.violation().contains("never reported lost"), r.violation());
    }

    @Test
    void aMissingSuffixTheAgentReportedIsAcceptedAndCounted() {
        String cut = G0.substring(0, 7);
        List<AgentNode.Loss> loss = List.of(new AgentNode.Loss("/p", 1, 7, G0.length(), "gone"));
        OutputChecker.Result r = OutputChecker.check(cat(cut, G1, G2), gens(SourceFile.End.RENAMED), loss);
        assertNull(r.violation());
        assertEquals(G0.length() - 7, r.reportedLoss());
    }

    @Test
    void aTruncatedGenerationMayLoseAnUnreportedSuffixButItIsNamed() {
        String cut = G0.substring(0, 7);
        OutputChecker.Result r = OutputChecker.check(cat(cut, G1, G2), gens(SourceFile.End.TRUNCATED), List.of());
        assertNull(r.violation());
        assertEquals(G0.length() - 7, r.sourceDestroyed());
    }

    @Test
    void theLastGenerationMustBeComplete() {
        assertNotNull(OutputChecker.check(cat(G0, G1, "Cq"), gens(SourceFile.End.RENAMED), List.of())
            .violation());
    }

    @Test
    void trailingForeignBytesFail() {
        assertNotNull(OutputChecker.check(cat(G0, G1, G2, "Axyz\n"), gens(SourceFile.End.RENAMED), List.of())
            .violation());
    }

    @Test
    void aDeletedGenerationCutWithoutAReportFailsThereIsNoKnownFindingExemption() {
        // Was known finding F2, exempt unless --strict: a file deleted while open, lost with its agent.
        OutputChecker.Result r = OutputChecker.check(cat(G0.substring(0, 5), G1, G2), gens(SourceFile.End.DELETED),
            List.of(new AgentNode.Loss("/p", 1, 2, 5, "gone")));
        assertNotNull(r.violation());
    }

    @Test
    void aLossOfUnknownSizeWhereTheReportedRangeEndsAccountsForTheRestOfTheGeneration() {
        List<AgentNode.Loss> loss = List.of(new AgentNode.Loss("/p", 1, 5, 9, "gone"),
            new AgentNode.Loss("/p", 1, 9, 9, "possibly more"));
        OutputChecker.Result r = OutputChecker.check(cat(G0.substring(0, 5), G1, G2), gens(SourceFile.End.DELETED), loss);
        assertNull(r.violation());
        assertEquals(G0.length() - 5, r.reportedLoss());
    }

    @Test
    void aLossOfUnknownSizeElsewhereThanWhereTheOutputStopsDoesNotCoverIt() {
        List<AgentNode.Loss> loss = List.of(new AgentNode.Loss("/p", 1, 9, 9, "possibly more"));
        assertNotNull(OutputChecker.check(cat(G0.substring(0, 5), G1, G2), gens(SourceFile.End.DELETED), loss)
            .violation(), "bytes 5..9 are neither held nor reported");
    }
}
