"""``netflag produce``'s backends: push an event log into a Redis stream or a Kafka topic.

One module per scheme, named in :data:`netflag.io.urls.SCHEMES` (``producer``),
each with a ``produce(stream, url, *, rate, ...)`` function that returns how
many events it sent.
"""
