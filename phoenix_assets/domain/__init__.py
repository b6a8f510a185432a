"""The domain: the Property schema, adapters from source payloads, merging and market statistics."""
