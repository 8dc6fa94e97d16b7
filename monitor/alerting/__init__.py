"""On-call alerting: rules (pure) → engine (pure) → outbox in the store → channels."""
