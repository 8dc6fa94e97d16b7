"""Configuration: parse → validate → build. Unknown keys fail; every error names file, key path and line.

Secrets (SNMP communities, v3 keys) never sit in the YAML: they come from an environment variable or a
file, and the models keep only where they live, so they never print.

Import from the module that defines a name (this package re-exports nothing, so that the sections defined
elsewhere can import the value types without loading the whole model):

- :mod:`monitor.config.types`: value types shared by every section (ids, host:port, durations, secrets);
- :mod:`monitor.config.model`: the sections and the whole ``Config``; ``alerting:`` and ``report:`` are in
  :mod:`monitor.alerting.settings` and :mod:`monitor.report.settings`, which import only the types;
- :mod:`monitor.config.checks`: checks across keys (unique ids, references that exist, timing);
- :mod:`monitor.config.load`: YAML → located errors → ``LoadedConfig`` with its secrets read.
"""
