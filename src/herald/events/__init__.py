"""Fineract's external business events: decoding what Fineract publishes, and the transports that carry it.

Fineract (1.7+) writes each enabled business event to an outbox in the same transaction as the
change and publishes it at least once to a broker, as an Avro `MessageV1` envelope in single-object
encoding (`herald.events.avro`). `kinds` says which event types herald's triggered rules listen to
and which ids each carries; a transport module per broker (`stomp` for ActiveMQ) hands bodies to
the consumer service and acknowledges them once what they produced is stored.
"""
