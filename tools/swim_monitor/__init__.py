"""``swim monitor``: a live status table of an upgrade campaign, read from the Kafka event topics."""
