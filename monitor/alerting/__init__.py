"""On-call alerting: rules (pure) → engine (pure) → outbox in the store → channels."""

# The config package builds its model from monitor.alerting.settings, which takes its value types from
# monitor.config.types: loading the config package first lets either be imported first.
import monitor.config  # noqa: F401
