package io.tailwire.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void everyControlCharacterQuoteAndBackslashIsEscapedAndReadsBack() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x80; c++) {
            all.append(c);
        }
        all.append("\u2028\u2029é€😀");
        String quoted = Json.quote(all.toString());
        for (int i = 1; i < quoted.length() - 1; i++) {
            char c = quoted.charAt(i);
            assertFalse(c < 0x20, "raw control character " + (int) c + " in output");
        }
        assertEquals(all.toString(), MiniJson.parse(quoted));
        assertTrue(quoted.contains("\\\"") && quoted.contains("\\\\") && quoted.contains("\\n")
                && quoted.contains("\\u0000") && quoted.contains("\\u001f"), quoted);
    }

    @Test
    void loneSurrogatesAreEscapedSoTheOutputIsValidUtf8() {
        String s = "a\ud800b\udc00c\ud83d";
        String quoted = Json.quote(s);
        assertEquals(quoted, new String(quoted.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
        assertEquals(s, MiniJson.parse(quoted));
    }

    @Property(tries = 300)
    void anyStringRoundTripsThroughQuoteAndAStrictReader(@ForAll("strings") String s) {
        String quoted = Json.quote(s);
        assertEquals(s, MiniJson.parse(quoted));
        assertEquals(quoted, new String(quoted.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
    }

    @Provide
    Arbitrary<String> strings() {
        return Arbitraries.oneOf(
                Arbitraries.strings().all().ofMaxLength(40),
                Arbitraries.strings().withCharRange('\0', '\u007f').ofMaxLength(40),
                Arbitraries.strings().withChars("\"\\\n\r\t\b\f\u0000\u001f\ud800\udc00/").ofMaxLength(20));
    }

    @Test
    void nestedStructuresGetCommasAndColonsInTheRightPlaces() {
        String doc = new Json().beginObject()
                .field("a", 1)
                .field("b", "x")
                .name("c").beginArray().value(1).value("two").value(true).nullValue()
                .beginObject().endObject().beginArray().endArray().endArray()
                .field("d", false)
                .field("e", (String) null)
                .endObject().toString();
        Map<String, Object> m = MiniJson.object(doc);
        assertEquals(1L, m.get("a"));
        assertEquals("x", m.get("b"));
        assertEquals(java.util.Arrays.asList(1L, "two", true, null, Map.of(), List.of()), m.get("c"));
        assertEquals(false, m.get("d"));
        assertTrue(m.containsKey("e") && m.get("e") == null);
    }

    @Test
    void misuseIsRefusedRatherThanWritingInvalidJson() {
        assertThrows(IllegalStateException.class, () -> new Json().beginObject().value(1));
        assertThrows(IllegalStateException.class, () -> new Json().beginArray().name("x"));
        assertThrows(IllegalStateException.class, () -> new Json().beginObject().endArray());
        assertThrows(IllegalStateException.class, () -> new Json().beginObject().name("x").endObject());
        assertThrows(IllegalStateException.class, () -> new Json().beginObject().toString());
        assertThrows(IllegalStateException.class, () -> new Json().value(1).value(2));
    }
}
