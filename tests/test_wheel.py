"""Builds the wheel, installs it into a clean virtual environment and runs `waconv demo` from
there. The wheel must carry what it links beyond the base system libraries: libdate-tz sits
beside the extension and is found through RPATH $ORIGIN (CMakeLists.txt says why), so the
wheel runs where Debian's libhowardhinnant-date-dev is not installed. Only the tz database
(the tzdata package, /usr/share/zoneinfo) stays a system requirement."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
import venv
import zipfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the copy pip vendors
    from pip._vendor import tomli as tomllib

from waconv import cli

ROOT = Path(__file__).resolve().parents[1]
# Kept between runs (outside the repository and its build/): the build environment and the
# CMake build directory, so a second run rebuilds only what changed (seconds, not minutes).
CACHE = Path(tempfile.gettempdir()) / "waconv-test-wheel"
BUNDLED = "libdate-tz.so.3"
# The webhook reader's libraries, bundled the same way (simdjson: Debian ships no static
# library; zlib's static one is not position-independent).
ALSO_BUNDLED = ("libsimdjson.so.14", "libz.so.1")
# What any Linux with a C++ runtime provides; everything else must be in the wheel.
BASE_LIBRARY = re.compile(r"(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s)\.so\.\d+|ld-linux[-\w.]*\.so\.\d+")
CLASSIFIED_IN = re.compile(r"^Classified in [\d.]+ ms\.$", re.MULTILINE)


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{args}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would put the development tree on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, **extra}


@contextlib.contextmanager
def locked(path: Path):
    """One wheel build at a time in the shared cache (two test runs on the same machine)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build_wheel(dist: Path) -> Path:
    """`pip wheel .` the way pip's build isolation would, but in a build environment and a
    build directory that persist in CACHE, so the build is incremental."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    with locked(CACHE / "lock"):
        env_dir = CACHE / "build-env"
        python = env_dir / "bin" / "python"
        if not python.exists():
            venv.create(env_dir, with_pip=True)
        run(python, "-m", "pip", "install", "-q", *requires, env=clean_env())
        # cmake and ninja: the ones the test environment has (the test extra), else the system's.
        path = os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])
        run(python, "-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation", "-w", dist,
            f"--config-settings=build-dir={CACHE / 'build' / '{wheel_tag}'}", env=clean_env(PATH=path))
    (wheel,) = dist.glob("waconv-*.whl")
    return wheel


def dynamic_section(elf: Path) -> tuple[list[str], list[str], list[str]]:
    """(NEEDED, RPATH, RUNPATH) entries of an ELF file's dynamic section."""
    out = run("readelf", "-d", elf).stdout
    entries = {tag: re.findall(rf"\({tag}\)\s+.*?\[(.*)\]", out) for tag in ("NEEDED", "RPATH", "RUNPATH")}
    return entries["NEEDED"], entries["RPATH"], entries["RUNPATH"]


def expected_demo_report(capsys) -> str:
    """`waconv demo` from the tree under test, the timing line blanked."""
    capsys.readouterr()
    assert cli.main(["demo"]) == 0
    return CLASSIFIED_IN.sub("Classified in - ms.", capsys.readouterr().out)


def test_wheel_installs_into_a_clean_venv_and_runs_the_demo_with_its_own_libdate_tz(tmp_path, capsys):
    wheel = build_wheel(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    assert f"waconv/{BUNDLED}" in names, names
    assert any(n.endswith(".dist-info/licenses/date-LICENSE") for n in names), names
    for library, notice in zip(ALSO_BUNDLED, ("simdjson-LICENSE", "zlib-LICENSE")):
        assert f"waconv/{library}" in names, names
        assert any(n.endswith(f".dist-info/licenses/{notice}") for n in names), names

    # A clean venv (no system site-packages, so not the development .pth either); pip fetches
    # the wheel's runtime dependencies.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", wheel, env=clean_env())

    # The installed package is the wheel's, and the libdate-tz the running process mapped is
    # the copy inside it.
    probe = ("import sysconfig, waconv, waconv._core\n"
             "print(sysconfig.get_path('purelib'))\n"
             "print(waconv.__file__)\n"
             "print(waconv._core.__file__)\n"
             "print(*sorted({l.split()[-1] for l in open('/proc/self/maps') if 'libdate-tz' in l}), sep='\\n')\n")
    site, package, extension, *mapped = run(python, "-c", probe, cwd=tmp_path, env=clean_env()).stdout.split("\n")[:-1]
    package_dir = Path(site) / "waconv"
    assert package_dir.is_relative_to(env_dir), package_dir
    assert Path(package).parent == package_dir
    extension = Path(extension)
    assert extension.parent == package_dir
    assert [Path(m).resolve() for m in mapped] == [(package_dir / BUNDLED).resolve()], mapped

    # The dynamic sections: RPATH (not RUNPATH, which LD_LIBRARY_PATH would override) is the
    # extension's own folder, and every library either is in it or is a base system library.
    needed, rpath, runpath = dynamic_section(extension)
    assert (rpath, runpath) == (["$ORIGIN"], []), (rpath, runpath)
    assert BUNDLED in needed, needed
    for name in needed:
        assert (package_dir / name).is_file() or BASE_LIBRARY.fullmatch(name), name
    bundled_needed, _, _ = dynamic_section(package_dir / BUNDLED)
    assert bundled_needed and all(BASE_LIBRARY.fullmatch(n) for n in bundled_needed), bundled_needed
    for library in ALSO_BUNDLED:
        assert library in needed, needed
        assert all(BASE_LIBRARY.fullmatch(n) for n in dynamic_section(package_dir / library)[0]), library

    # And the loader agrees: ldd resolves libdate-tz into the wheel, whatever the system has.
    resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", run("ldd", extension).stdout, re.MULTILINE))
    assert Path(resolved[BUNDLED]).resolve() == (package_dir / BUNDLED).resolve(), resolved
    for name, path in resolved.items():
        assert Path(path).resolve().parent == package_dir.resolve() or BASE_LIBRARY.fullmatch(name), (name, path)

    # The console script of the venv prints the same report as the tree under test.
    demo = run(env_dir / "bin" / "waconv", "demo", cwd=tmp_path, env=clean_env())
    report = CLASSIFIED_IN.sub("Classified in - ms.", demo.stdout)
    assert "CBP conversations by era and category:" in report and "This log cost" in report, report
    # (A difference with no change to the wheel: is the development build, build/dev, stale?)
    assert report == expected_demo_report(capsys)
