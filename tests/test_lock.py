"""requirements.lock (what the Docker image installs, hash-checked) agrees with pyproject's dependencies.

Every dependency of pyproject is pinned in the lock within its range, and every pin the lock marks as coming
from pyproject (``# via wifimon (pyproject.toml)``) is still one of them. The rest of the closure (each
pinned package's own requirements) is checked where it matters: the image build installs the lock with
``--require-hashes`` (every requirement pinned, or it fails) and then runs ``pip check``. `make lock` fixes
what this test finds.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = (ROOT / "requirements.lock").read_text(encoding="utf-8")
FROM_PYPROJECT = "wifimon (pyproject.toml)"
# The image: CPython 3.11 on Linux x86-64 (markers of pyproject's dependencies are judged for it).
IMAGE_ENV = {"python_version": "3.11", "python_full_version": "3.11.2", "sys_platform": "linux",
             "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
             "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def read_lock(text: str) -> dict[str, tuple[Version, bool, int]]:
    """name → (pinned version, pinned because pyproject asks for it, number of hashes), from uv/pip-compile output."""
    pins: dict[str, tuple[Version, bool, int]] = {}
    name = ""
    logical = ""
    for raw in text.splitlines() + [""]:
        line = raw.strip()
        if logical or (line and not line.startswith("#")):
            logical += line.removesuffix("\\") + " "
            if line.endswith("\\"):
                continue
            spec, *hashes = logical.split(" --hash=")
            req = Requirement(spec.strip())
            pinned = [s for s in req.specifier if s.operator == "=="]
            assert len(pinned) == 1 and len(req.specifier) == 1, f"requirements.lock: {spec.strip()!r} is not one == pin"
            name = canonicalize_name(req.name)
            pins[name] = (Version(pinned[0].version), False, len(hashes))
            logical = ""
        elif line.startswith("#") and name and FROM_PYPROJECT in line:
            version, _, hashes = pins[name]
            pins[name] = (version, True, hashes)
    return pins


def lock_problems(dependencies: list[str], lock_text: str) -> list[str]:
    """What disagrees between pyproject's ``dependencies`` and the lock, one line each (none: they agree)."""
    pins = read_lock(lock_text)
    problems = [f"requirements.lock: {name}=={v} has no --hash" for name, (v, _, hashes) in pins.items() if not hashes]
    wanted = set()
    for dep in dependencies:
        req = Requirement(dep)
        if req.marker is not None and not req.marker.evaluate(IMAGE_ENV):
            continue
        name = canonicalize_name(req.name)
        wanted.add(name)
        if name not in pins:
            problems.append(f"pyproject.toml: {dep!r} is not in requirements.lock")
        elif not req.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"pyproject.toml: {dep!r} but requirements.lock pins {name}=={pins[name][0]}")
        elif not pins[name][1]:
            problems.append(f"requirements.lock: {name} is not marked '# via {FROM_PYPROJECT}'")
    problems += [f"requirements.lock: {name}=={v} is pinned for pyproject.toml, which no longer asks for it"
                 for name, (v, direct, _) in pins.items() if direct and name not in wanted]
    return problems


def project_dependencies() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]


def test_the_lock_pins_exactly_what_pyproject_asks_for() -> None:
    problems = lock_problems(project_dependencies(), LOCK)
    assert not problems, "\n".join(problems) + "\n(run `make lock`)"


def without(deps: list[str], name: str) -> list[str]:
    return [d for d in deps if canonicalize_name(Requirement(d).name) != name]


def test_a_new_dependency_missing_from_the_lock_is_named() -> None:
    assert lock_problems(project_dependencies() + ["zstandard>=0.22"], LOCK) == [
        "pyproject.toml: 'zstandard>=0.22' is not in requirements.lock"]


def test_a_range_the_pin_is_outside_of_is_named() -> None:
    pinned = read_lock(LOCK)["openpyxl"][0]
    above = f"openpyxl>{pinned}"
    assert lock_problems(without(project_dependencies(), "openpyxl") + [above], LOCK) == [
        f"pyproject.toml: {above!r} but requirements.lock pins openpyxl=={pinned}"]


def test_a_dropped_dependency_still_pinned_for_pyproject_is_named() -> None:
    pinned = read_lock(LOCK)["tzdata"][0]
    assert lock_problems(without(project_dependencies(), "tzdata"), LOCK) == [
        f"requirements.lock: tzdata=={pinned} is pinned for pyproject.toml, which no longer asks for it"]


def test_a_transitive_pin_that_pyproject_now_names_needs_a_new_lock() -> None:
    assert lock_problems(project_dependencies() + ["cffi>=1"], LOCK) == [
        "requirements.lock: cffi is not marked '# via wifimon (pyproject.toml)'"]


def test_a_marker_for_another_platform_is_not_required() -> None:
    assert lock_problems(project_dependencies() + ["pywin32>=300; sys_platform == 'win32'"], LOCK) == []


def test_a_pin_without_hash_is_named() -> None:
    assert lock_problems([], "idna==3.20\n    # via httpx\n") == ["requirements.lock: idna==3.20 has no --hash"]
