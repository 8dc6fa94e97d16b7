"""The ``wifimon`` command line. English output; exit code 0 on success, 1 on a user error, 2 on usage."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx

from collectors.errors import WifimonError
from monitor.cli.common import DEFAULT_CONFIGS, config_arg, config_failure, default_config, default_note, pad
from monitor.logs import configure
from monitor.config.load import ConfigError, LoadedConfig, load_config, parse_config
from collectors.engines import gufo_missing, summary
from monitor.config.model import Config
from monitor.config.types import dotted, split_listen
from monitor.domain.local_time import local_text

log = logging.getLogger("monitor.cli.main")

def print_problems(named: Path | None, path: Path, exc: ConfigError) -> int:
    """Every problem on its own line, then how many: the same for ``check-config`` and ``run``."""
    print(config_failure(named, path, [*exc.problems, f"{path}: {len(exc.problems)} problem(s)"]), file=sys.stderr)
    return 1


def cmd_check_config(args: argparse.Namespace) -> int:
    from monitor.exposition.web_config import web_config_of

    path = args.config or default_config()
    try:
        loaded = load_config(path)  # what `run` loads and checks before it starts, no more and no less
        web_config_of(loaded)  # and the web config `run` serves with (exposition's, so not in load_config)
    except ConfigError as exc:
        return print_problems(args.config, path, exc)
    cfg = loaded.config
    aps = sum(len(s.aps) for s in cfg.sites)
    print(f"{path}: valid; {len(cfg.sites)} sites, {aps} APs, {len(cfg.credentials)} credentials")
    for line in summary(loaded.targets(), cfg.service.snmp_engine, gufo_missing()):
        print(f"  snmp engine {line}")
    if cfg.service.shard is not None:
        print_shards(loaded)
    return 0


def print_shards(loaded: LoadedConfig) -> None:
    """Each shard's share of the inventory (sites, APs), this instance's marked."""
    from monitor.domain.shards import shard_of

    shard = loaded.config.service.shard
    assert shard is not None
    sizes = [[0, 0] for _ in range(shard.count)]
    for site in loaded.config.sites:
        size = sizes[shard_of(site.id, shard.count)]
        size[0] += 1
        size[1] += len(site.aps)
    role = "standby" if loaded.config.service.standby else "active"
    for i, (sites, aps) in enumerate(sizes):
        mine = f"  <- this instance ({role})" if i == shard.index else ""
        print(f"  shard {i}/{shard.count}: {sites} sites, {aps} APs{mine}")


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.app import serve
    from monitor.store import StoreError

    path = args.config or default_config()
    try:
        serve(with_shard(_load_frozen(path, args), args.shard, args.standby))
    except ConfigError as exc:
        return print_problems(args.config, path, exc)
    except StoreError as exc:
        print(f"wifimon: {exc}", file=sys.stderr)
        return 1
    return 0


def _load_frozen(path: Path, args: argparse.Namespace) -> LoadedConfig:
    """The config ``run`` serves, loaded with the cyclic GC off (its collections are 40 % of loading 10,000 APs
    and find little), then one collection and ``gc.freeze()``: what is left lives as long as the process, so
    later collections skip it. Only the load: with the GC off through target registration, pysnmp's garbage
    piled up (peak RSS 1.2 GB instead of 0.85 at 10,000 APs)."""
    gc.disable()
    try:
        return with_service(load_config(path), listen=args.listen, web_config=args.web_config_file)
    finally:
        gc.collect()
        gc.freeze()
        gc.enable()


def with_service(loaded: LoadedConfig, **overrides: str | None) -> LoadedConfig:
    """The config with the given ``service`` keys replaced by command-line options (None: keep the file's).

    ``--listen`` (a container listens on all its interfaces) and ``--web.config.file`` (a path relative to
    the working directory, as options are, unlike the config file's own relative paths).
    """
    given = {k: (Path(v).resolve() if k == "web_config" else v) for k, v in overrides.items() if v}
    if not given:
        return loaded
    if "listen" in given:
        try:
            split_listen(str(given["listen"]))
        except ValueError as exc:
            raise ConfigError([f"--listen {given['listen']!r}: {exc}"]) from None
    service = loaded.config.service.model_copy(update=given)
    return replace(loaded, config=loaded.config.model_copy(update={"service": service}))


def with_shard(loaded: LoadedConfig, shard: str | None, standby: bool) -> LoadedConfig:
    """The config with ``--shard i/N`` and ``--standby`` applied (the command line wins over the file),
    checked as the file's own ``service.shard`` is."""
    from monitor.config.checks import scale_problems
    from monitor.config.model import ShardSettings
    from monitor.domain.shards import parse_shard

    if shard is None and not standby:
        return loaded
    update: dict[str, object] = {"standby": True} if standby else {}
    if shard is not None:
        try:
            parsed = parse_shard(shard)
        except ValueError as exc:
            raise ConfigError([f"--shard {shard!r}: {exc}"]) from None
        update["shard"] = ShardSettings(index=parsed.index, count=parsed.count)
    service = loaded.config.service.model_copy(update=update)
    config = loaded.config.model_copy(update={"service": service})
    names = {"shard": "--shard", "standby": "--standby"}
    problems = [f"{names.get(loc[-1], dotted(loc))}: {msg}" for loc, msg in scale_problems(config)
                if loc[-1] in update]
    if problems:
        raise ConfigError(problems)
    return replace(loaded, config=config)


def print_last_known(cfg: Config) -> None:
    """With the service down, what the store last recorded: sites not up, since when (no clients, no polls)."""
    from monitor.store import Store, StoreError

    store = Store(cfg.service.store_url)
    db = store.url.database
    if store.url.get_backend_name() == "sqlite" and db and not Path(db).exists():
        return  # never ran here: nothing to show, and no empty database to leave behind
    try:
        states = store.last_states()
    except StoreError as exc:
        print(f"wifimon status: no last known states either: {exc}", file=sys.stderr)
        return
    names = {s.id: s.name for s in cfg.sites}
    rows = [(entity, state, since) for (scope, entity), (state, since, _) in sorted(states.items())
            if scope == "site" and entity in names and state != "up"]
    print(f"last known states in the store ({store.display_url}); the other {len(names) - len(rows)} sites"
          " were last seen up, or never:")
    tz = cfg.service.timezone
    print(f"{'SITE':<16} {'LAST STATE':<15} {'SINCE':<23} NAME")
    for entity, state, since in rows:
        print(f"{pad(entity, 16)} {pad(state, 15)} {pad(local_text(since, tz, seconds=True), 23)} {names[entity]}")


def cmd_status(args: argparse.Namespace) -> int:
    path = args.config or default_config()
    try:
        cfg = parse_config(path)
    except ConfigError as exc:
        print(config_failure(args.config, path, exc.problems), file=sys.stderr)
        return 1
    host, port = split_listen(cfg.service.listen)
    url = f"http://{host}:{port}/api/status"
    try:
        doc = httpx.get(url, timeout=5.0).raise_for_status().json()
    except httpx.HTTPError as exc:
        print(f"wifimon status: cannot reach the running service at {url} ({exc.__class__.__name__}: {exc}); "
              "is `wifimon run` running with this config?", file=sys.stderr)
        if note := default_note(args.config, path):
            print(note, file=sys.stderr)
        print_last_known(cfg)
        return 1
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0
    sites = doc["sites"]
    counts: dict[str, int] = {}
    for s in sites:
        counts[s["state"]] = counts.get(s["state"], 0) + 1
    print("sites: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    shown = [s for s in sites if args.all or s["state"] != "up"]
    tz = cfg.service.timezone

    def when(ts: float | None) -> str:
        return local_text(ts, tz, seconds=True)

    def reason(doc: dict[str, object]) -> str:
        return str(doc.get("reason") or "-")

    print(f"{'SITE':<16} {'STATE':<15} {'SINCE':<23} {'REASON':<16} {'AP':<20} {'AP STATE':<15} {'AP REASON':<16} "
          f"{'CLIENTS':>7}  {'LAST POLL':<23} NAME")
    for s in shown:
        for i, a in enumerate(s["aps"]):
            head = (f"{pad(s['id'], 16)} {pad(s['state'], 15)} {pad(when(s['since']), 23)} {pad(reason(s), 16)}"
                    if i == 0 else " " * 73)
            clients = "-" if a["clients"] is None else a["clients"]
            print(f"{head} {pad(a['id'], 20)} {pad(a['state'], 15)} {pad(reason(a), 16)} {pad(clients, 7, right=True)}"
                  f"  {pad(when(a['last_poll']), 23)} {s['name'] if i == 0 else ''}")
    if not args.all:
        print(f"({len(sites) - len(shown)} sites up not shown; --all shows every site)")
    return 0


def cmd_import_sites(args: argparse.Namespace) -> int:
    """``import-sites``, saying loudly when the file it creates becomes the config every later command reads."""
    from monitor import inventory_import as sites_import

    before = default_config()
    existed = before.exists()
    code = sites_import.run(args)
    after = default_config()
    if after != before or (not existed and after.exists()):
        print(f"wifimon import-sites: NOTE: created {after}; from now on every command run here without a config "
              f"reads it{f' instead of {before}' if existed else ''}. To use another, name it "
              f"(`wifimon status {before if existed else 'CONFIG'}`, --config) or set $WIFIMON_CONFIG.",
              file=sys.stderr)
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    """Start the simulated fleet in a child process, then the monitor in this one; Ctrl-C stops both."""
    import subprocess
    import time

    from monitor.app import serve

    path = args.config or DEFAULT_CONFIGS[1]
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    # The simulator in a process group of its own: Ctrl-C reaches this process only, which stops the simulator
    # below (interrupted while it still imports, the simulator would print a KeyboardInterrupt traceback).
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--config", str(path), "--control", args.control],
        stdout=subprocess.PIPE, text=True, bufsize=1, process_group=0,
    )
    try:
        deadline = time.monotonic() + 120
        assert sim.stdout is not None
        for line in sim.stdout:
            print(line, end="", flush=True)
            if line.startswith("simulator: serving") or time.monotonic() > deadline:
                break
        if sim.poll() is not None:
            print(f"wifimon demo: the simulator exited with code {sim.returncode}", file=sys.stderr)
            return 1
        host, port = split_listen(loaded.config.service.listen)
        print(f"wifimon demo: metrics  http://{host}:{port}/metrics", flush=True)
        print(f"wifimon demo: status   {sys.argv[0]} status {path}", flush=True)
        print(f"wifimon demo: faults   {sys.argv[0]} simulate --fault <site-or-ap>=down|up|slow|reboot|garbage",
              flush=True)
        serve(loaded)
    finally:
        if sim.poll() is None:
            sim.terminate()
            try:
                sim.wait(10)
            except subprocess.TimeoutExpired:
                sim.kill()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wifimon", description="Monitoring for public Wi-Fi.")
    parser.add_argument("--log-level", default=os.environ.get("WIFIMON_LOG_LEVEL", "INFO"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--log-format", default=os.environ.get("WIFIMON_LOG_FORMAT", "logfmt"),
                        choices=["logfmt", "json"], help="logfmt (key=value, quoted when needed) or JSON lines")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="poll the fleet, serve /metrics, keep history")
    config_arg(p)
    p.add_argument("--listen", metavar="HOST:PORT", help="override service.listen (e.g. 0.0.0.0:9810 in a container)")
    p.add_argument("--web.config.file", dest="web_config_file", metavar="FILE",
                   help="exporter-toolkit web config: TLS and basic auth for /metrics and the API (/healthz stays open)")
    p.add_argument("--shard", metavar="I/N", help="watch shard I of N (0 ≤ I < N) of the inventory; overrides"
                   " service.shard (PostgreSQL only)")
    p.add_argument("--standby", action="store_true", help="start as the shard's standby: poll nothing until the"
                   " active's lease lapses (PostgreSQL only)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check-config", help="validate a config file; print every problem with its location")
    config_arg(p)
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("status", help="sites and APs: state, since when, clients, last poll")
    config_arg(p)
    p.add_argument("--all", action="store_true", help="list every site, not only those not up")
    p.add_argument("--json", action="store_true", help="print the raw JSON document")
    p.set_defaults(func=cmd_status)

    from monitor import inventory_import as sites_import
    from monitor.cli import alerting, export, maintenance, report

    report.register(sub)
    export.register(sub)
    maintenance.register(sub)
    alerting.register(sub)

    p = sub.add_parser("import-sites", help="merge the national free Wi-Fi dataset (CSV) into a config's sites",
                       description=sites_import.DESCRIPTION)
    sites_import.add_arguments(p)
    p.set_defaults(func=cmd_import_sites)

    from monitor.cli import identify

    identify.register(sub)

    p = sub.add_parser("demo", help="run the simulated fleet and the monitor together (make demo)")
    config_arg(p)
    p.add_argument("--control", default="127.0.0.1:9169", help="the simulator's control address")
    p.set_defaults(func=cmd_demo)

    from monitor.cli import simulate

    simulate.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        configure(args.log_level, args.log_format)
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except WifimonError as exc:  # every refusal wifimon knows how to explain (collectors/errors.py draws the tree)
        print(f"wifimon {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before a command installed its own handling (e.g. while starting)
        print("wifimon: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
