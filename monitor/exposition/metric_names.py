"""Every metric wifimon exports, in one table: name, type, help, labels.

Dashboards, alert rules and tests refer to these names; change one here and grep the rest.
Prometheus conventions: base units, ``_total`` for counters, bounded labels (never a MAC or free text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class MetricSpec:
    name: str
    type: Literal["gauge", "counter", "histogram", "info"]
    help: str
    labels: tuple[str, ...] = ()


AP = ("site", "ap")
_SPECS = [
    # Per AP.
    MetricSpec("wifi_ap_up", "gauge", "1 if the AP answers SNMP (state up), else 0; present for every configured AP", AP),
    MetricSpec("wifi_ap_state", "gauge", "1 for the AP's current state, 0 for the others", AP + ("state",)),
    MetricSpec("wifi_ap_state_since_timestamp_seconds", "gauge", "When the AP entered its current state", AP),
    MetricSpec("wifi_ap_uptime_seconds", "gauge", "Device uptime (sysUpTime, corrected for its 497-day wrap)", AP),
    MetricSpec("wifi_ap_clients", "gauge", "Associated stations at the level the device offers; rows with the same radio, SSID and level summed (see wifi_ap_client_rows)", AP + ("radio", "ssid", "level")),
    MetricSpec("wifi_ap_client_rows", "gauge", "Device rows (WLANs) summed into one wifi_ap_clients sample; present only where more than one", AP + ("radio", "ssid", "level")),
    MetricSpec("wifi_ap_stations", "gauge", "Associated stations of the AP counted once: the sum at the one level named (see monitor/domain/clients.py)", AP + ("level",)),
    MetricSpec("wifi_ap_receive_bytes", "counter", "Bytes received on the AP's uplink interfaces, monotonic across wraps and reboots", AP),
    MetricSpec("wifi_ap_transmit_bytes", "counter", "Bytes transmitted on the AP's uplink interfaces, monotonic across wraps and reboots", AP),
    MetricSpec("wifi_ap_probe_duration_seconds", "gauge", "Round-trip time of the last liveness probe", AP),
    MetricSpec("wifi_ap_probes", "counter", "Liveness probes sent (fast re-checks included)", AP),
    MetricSpec("wifi_ap_probe_failures", "counter", "Liveness probes that failed", AP),
    MetricSpec("wifi_ap_last_success_timestamp_seconds", "gauge", "Unix time of the last successful SNMP exchange", AP),
    MetricSpec("wifi_ap_reboots", "counter", "Reboots detected from the implied boot time (answer time - sysUpTime) moving forward beyond the readings' uncertainty (not the 497-day wrap)", AP),
    MetricSpec("wifi_ap_cpu_ratio", "gauge", "Mean CPU load, 0..1", AP),
    MetricSpec("wifi_ap_memory_ratio", "gauge", "Memory in use, 0..1", AP),
    MetricSpec("wifi_ap_radio_utilisation_ratio", "gauge", "Radio channel utilisation, 0..1", AP + ("radio",)),
    MetricSpec("wifi_ap_radio_channel", "gauge", "Radio channel number", AP + ("radio",)),
    MetricSpec("wifi_ap_radio_noise_dbm", "gauge", "Radio noise floor in dBm", AP + ("radio",)),
    MetricSpec("wifi_ap_info", "gauge", "Constant 1; what the AP is", AP + ("profile", "model", "address")),
    # Per site uplink device (PoE switch, a ferry's LTE router).
    MetricSpec("wifi_uplink_up", "gauge", "1 if the site's uplink device answers SNMP", ("site", "device")),
    MetricSpec("wifi_uplink_probe_duration_seconds", "gauge", "Round-trip time of the last uplink probe", ("site", "device")),
    MetricSpec("wifi_uplink_lte_rsrp_dbm", "gauge", "LTE reference signal received power of the uplink's modem", ("site", "device")),
    MetricSpec("wifi_uplink_lte_rsrq_db", "gauge", "LTE reference signal received quality of the uplink's modem", ("site", "device")),
    MetricSpec("wifi_uplink_lte_sinr_db", "gauge", "LTE signal to interference and noise ratio of the uplink's modem", ("site", "device")),
    # Per wireless controller (controller mode).
    MetricSpec("wifi_controller_up", "gauge", "1 if the controller answered its last poll, 0 if not, NaN before its first poll", ("controller",)),
    MetricSpec("wifi_controller_clients", "gauge", "Associated stations as the controller itself counts them (its last answered poll); absent when it gives no count", ("controller",)),
    MetricSpec("wifi_controller_aps", "gauge", "APs of the controller: joined = listed in its AP table as not down (absent when it did not answer), expected = watched through it by the inventory", ("controller", "state")),
    # Per site.
    MetricSpec("wifi_site_up", "gauge", "1 if the site serves (up or degraded), 0 if down, NaN in maintenance, out of service or unknown", ("site",)),
    MetricSpec("wifi_site_state", "gauge", "1 for the site's current state, 0 for the others", ("site", "state")),
    MetricSpec("wifi_site_state_since_timestamp_seconds", "gauge", "When the site entered its current state", ("site",)),
    MetricSpec("wifi_site_in_service", "gauge", "1 while the site's service calendar (a ferry's timetable) says it should serve", ("site",)),
    MetricSpec("wifi_site_clients", "gauge", "Associated stations over the site's APs whose count is known (up and reporting one); absent when none is; partial when wifi_site_clients_uncounted_aps > 0", ("site",)),
    MetricSpec("wifi_site_clients_uncounted_aps", "gauge", "APs of the site left out of wifi_site_clients: not up, or offering no client count (0: the total is complete)", ("site",)),
    MetricSpec("wifi_site_aps", "gauge", "APs of the site by state", ("site", "state")),
    MetricSpec("wifi_site_info", "gauge", "Constant 1; what and where the site is", ("site", "name", "category", "district", "lat", "lon", "kind")),
    MetricSpec("wifi_site_availability_ratio", "gauge", "Availability as the monthly report computes it", ("site", "window")),
    # The service itself.
    MetricSpec("wifimon_round_duration_seconds", "histogram", "Wall time of a probe or metrics round", ("round",)),
    MetricSpec("wifimon_rounds", "counter", "Rounds run", ("round",)),
    MetricSpec("wifimon_round_overruns", "counter", "Rounds that did not finish within their interval", ("round",)),
    MetricSpec("wifimon_last_round_timestamp_seconds", "gauge", "When the last round of each kind finished", ("round",)),
    MetricSpec("wifimon_snmp_requests", "counter", "SNMP exchanges by operation", ("op",)),
    MetricSpec("wifimon_snmp_errors", "counter", "Failed SNMP exchanges by operation and kind, and objects a poll got with the wrong type (protocol_error)", ("op", "kind")),
    MetricSpec("wifimon_udp_receive_buffer_errors", "counter", "Datagrams the kernel dropped on wifimon's own SNMP sockets (drops of their inodes in /proc/net/udp): replies lost before the poller read them, not the host's"),
    MetricSpec("wifimon_traps_received", "counter", "SNMP traps received, by result", ("result",)),
    MetricSpec("wifimon_trap_engine_ids", "gauge", "SNMPv3 engine IDs the trap receiver learned from authentic senders and holds"),
    MetricSpec("wifimon_notifications", "counter", "Notifications by channel and result", ("channel", "result")),
    MetricSpec("wifimon_outbox_depth", "gauge", "Notifications waiting in the outbox"),
    MetricSpec("wifimon_instance_active", "gauge", "1 while this instance holds its shard's lease and watches the shard (shard=\"whole\": the whole inventory), 0 while it is the standby", ("shard",)),
    MetricSpec("wifimon_store_write_seconds", "histogram", "Latency of store writes"),
    MetricSpec("wifimon_store_errors", "counter", "Store writes that failed (and were retried)"),
    MetricSpec("wifimon_store_queue_depth", "gauge", "Store writes waiting"),
    MetricSpec("wifimon_store_jobs_set_aside", "counter", "Store writes given up: bad input, or failing the same way while others succeeded"),
    MetricSpec("wifimon_store_jobs_dropped", "counter", "Store writes dropped because the queue was full (never transitions, events or alert states)"),
    MetricSpec("wifimon_aps_configured", "gauge", "APs in the inventory"),
    MetricSpec("wifimon_build_info", "gauge", "Constant 1", ("version",)),
]

METRICS: dict[str, MetricSpec] = {m.name: m for m in _SPECS}
