"""On-call alerting: rules (pure) → engine (pure) → outbox in the store → channels.

``monitor.config`` imports :mod:`monitor.alerting.settings` for its ``alerting:`` section, and that module
imports ``Secret`` and ``Ident`` from ``monitor.config``. Importing the config first, here, makes the
cycle resolve the same way whichever module a program happens to import first.
"""

import monitor.config  # noqa: F401  (see above)
