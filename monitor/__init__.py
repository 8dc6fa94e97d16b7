"""wifimon: the service. Domain, state, alerting, storage, availability, reports, HTTP, CLI, wiring."""
