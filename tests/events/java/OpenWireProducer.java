import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.HexFormat;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.MessageProducer;
import javax.jms.Session;
import org.apache.activemq.ActiveMQConnectionFactory;

/**
 * Sends each line of standard input (hex) as one persistent JMS BytesMessage over OpenWire, as Fineract's
 * JMS producer sends an external event: the tests check that a STOMP reader sees these exactly as it sees
 * the messages tests/activemq.py sends over STOMP.
 *
 * <p>java -cp activemq-client.jar:geronimo-jms_1.1_spec.jar:hawtbuf.jar:slf4j-api.jar OpenWireProducer.java URL QUEUE
 */
public class OpenWireProducer {
    public static void main(String[] args) throws Exception {
        Connection connection = new ActiveMQConnectionFactory(args[0]).createConnection();
        try {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = session.createProducer(session.createQueue(args[1]));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
            for (String line; (line = in.readLine()) != null; ) {
                BytesMessage message = session.createBytesMessage();
                message.writeBytes(HexFormat.of().parseHex(line.trim()));
                producer.send(message);
            }
        } finally {
            connection.close();
        }
    }
}
