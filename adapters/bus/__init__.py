"""The message bus: the relay that publishes the ledger as CloudEvents (FastStream, RabbitMQ),
the AsyncAPI document that describes those messages, and a witness that consumes them."""
