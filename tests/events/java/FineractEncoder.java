// Encodes Fineract external events the way Fineract does: Apache Avro's Java library, single-object
// encoding (BinaryMessageEncoder) of the payload and of the MessageV1 envelope around it.
//
// Usage: java -cp <avro jars> FineractEncoder.java <folder of .avsc>
//   stdin:  one JSON object per line: {"envelope": {id, source, type, category, createdAt, businessDate,
//           tenantId, idempotencyKey}, "dataschema": "<full name>", "data": {...payload fields...}}
//           or {"fingerprints": true} to print "<full name> <little-endian hex fingerprint>" for every schema.
//   stdout: per event line, the encoded envelope in hex.
// Big decimals are given as strings ("1500.5"); Fineract's build turns the "bigdecimal" type name into
// bytes/decimal(20, 8) before compiling, and so does this program before parsing.
import java.io.*;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.stream.*;
import org.apache.avro.*;
import org.apache.avro.generic.*;
import org.apache.avro.message.BinaryMessageEncoder;
import org.codehaus.jackson.map.ObjectMapper;

@SuppressWarnings("unchecked")
public class FineractEncoder {
    static final String DECIMAL = "{\"type\": \"bytes\", \"logicalType\": \"decimal\", \"precision\": 20, \"scale\": 8}";

    public static void main(String[] args) throws Exception {
        Map<String, Schema> schemas = parseAll(Paths.get(args[0]));
        ObjectMapper json = new ObjectMapper();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            Map<?, ?> request = json.readValue(line, Map.class);
            if (request.containsKey("fingerprints")) {
                for (Map.Entry<String, Schema> e : new TreeMap<>(schemas).entrySet()) {
                    long fp = SchemaNormalization.parsingFingerprint64(e.getValue());
                    ByteBuffer le = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(fp);
                    out.println(e.getKey() + " " + hex(le.array()));
                }
                out.println("END");
                continue;
            }
            Schema payloadSchema = schemas.get((String) request.get("dataschema"));
            byte[] payload = encode(payloadSchema, value(payloadSchema, request.get("data")));
            Map<String, Object> envelope = new HashMap<>((Map<String, Object>) request.get("envelope"));
            envelope.put("dataschema", request.get("dataschema"));
            envelope.put("data", ByteBuffer.wrap(payload));
            Schema message = schemas.get("org.apache.fineract.avro.MessageV1");
            out.println(hex(encode(message, value(message, envelope))));
        }
    }

    static byte[] encode(Schema schema, Object datum) throws IOException {
        BinaryMessageEncoder<Object> encoder = new BinaryMessageEncoder<>(GenericData.get(), schema);
        ByteBuffer buffer = encoder.encode(datum);
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    // Files refer to each other by name: parse each once every type it uses is known.
    static Map<String, Schema> parseAll(Path folder) throws IOException {
        List<String> texts;
        try (Stream<Path> files = Files.walk(folder)) {
            texts = files.filter(p -> p.toString().endsWith(".avsc")).sorted().map(p -> {
                try { return new String(Files.readAllBytes(p), StandardCharsets.UTF_8).replace("\"bigdecimal\"", DECIMAL); }
                catch (IOException e) { throw new UncheckedIOException(e); }
            }).collect(Collectors.toList());
        }
        Map<String, Schema> known = new HashMap<>();
        while (!texts.isEmpty()) {
            List<String> left = new ArrayList<>();
            for (String text : texts) {
                Schema.Parser parser = new Schema.Parser();
                parser.addTypes(known);
                try {
                    Schema s = parser.parse(text);
                    known.put(s.getFullName(), s);
                } catch (SchemaParseException e) {
                    left.add(text);
                }
            }
            if (left.size() == texts.size()) throw new IllegalStateException("unresolvable schemas: " + left.size());
            texts = left;
        }
        return known;
    }

    static Object value(Schema schema, Object given) {
        switch (schema.getType()) {
            case UNION:
                if (given == null) return null;
                for (Schema branch : schema.getTypes()) {
                    if (branch.getType() != Schema.Type.NULL) return value(branch, given);
                }
                throw new IllegalArgumentException("no branch for " + given);
            case RECORD:
                GenericRecordBuilder builder = new GenericRecordBuilder(schema);
                for (Map.Entry<?, ?> e : ((Map<?, ?>) given).entrySet()) {
                    Schema.Field field = schema.getField((String) e.getKey());
                    if (field == null) throw new IllegalArgumentException(schema.getName() + " has no field " + e.getKey());
                    builder.set(field, value(field.schema(), e.getValue()));
                }
                return builder.build();
            case ARRAY:
                List<Object> items = new ArrayList<>();
                for (Object item : (List<?>) given) items.add(value(schema.getElementType(), item));
                return new GenericData.Array<>(schema, items);
            case ENUM: return new GenericData.EnumSymbol(schema, given.toString());
            case LONG: return ((Number) given).longValue();
            case INT: return ((Number) given).intValue();
            case DOUBLE: return ((Number) given).doubleValue();
            case FLOAT: return ((Number) given).floatValue();
            case BOOLEAN: return given;
            case STRING: return given.toString();
            case BYTES:
                if (given instanceof ByteBuffer) return given;
                if (given instanceof String && schema.getLogicalType() instanceof LogicalTypes.Decimal) {
                    LogicalTypes.Decimal d = (LogicalTypes.Decimal) schema.getLogicalType();
                    BigDecimal number = new BigDecimal((String) given).setScale(d.getScale(), RoundingMode.UNNECESSARY);
                    return ByteBuffer.wrap(number.unscaledValue().toByteArray());
                }
                return ByteBuffer.wrap(given.toString().getBytes(StandardCharsets.ISO_8859_1));
            default: throw new IllegalArgumentException("unsupported " + schema.getType());
        }
    }

    static String hex(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (byte b : bytes) s.append(String.format("%02x", b));
        return s.toString();
    }
}
