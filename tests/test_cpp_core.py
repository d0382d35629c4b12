"""Builds the pure C++ core on its own (no Python) and runs its Catch2 suite with CTest: once
as released (Release) and once under AddressSanitizer + UndefinedBehaviorSanitizer."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Any sanitizer report ends the process with an error (abort_on_error: SIGABRT, which CTest
# counts as a failure), leaks included: LeakSanitizer runs at exit of every test process.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1",
    "UBSAN_OPTIONS": "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
}


def build_and_ctest(build: Path, *cmake_args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), *cmake_args, *generator],
                   check=True, capture_output=True, env=env)
    # The build runs the test binary too (catch_discover_tests lists its cases).
    subprocess.run(["cmake", "--build", str(build), "-j2"], check=True, capture_output=True, env=env)
    return subprocess.run(["ctest", "--test-dir", str(build), "--output-on-failure", "-j2"],
                          capture_output=True, text=True, env=env)


def test_cpp_core_builds_without_python_and_passes_ctest(tmp_path):
    run = build_and_ctest(tmp_path / "build", "-DCMAKE_BUILD_TYPE=Release")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "100% tests passed" in run.stdout


def test_cpp_core_passes_ctest_under_address_and_undefined_behaviour_sanitizers(tmp_path):
    build = tmp_path / "build-sanitize"
    env = {**os.environ, **SANITIZER_ENV}
    run = build_and_ctest(build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DWACONV_SANITIZE=ON", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "100% tests passed" in run.stdout
    # A passing run proves nothing if the option stopped instrumenting the binary.
    linked = subprocess.run(["ldd", str(build / "waconv_core_tests")], check=True, capture_output=True,
                            text=True).stdout
    assert "libasan" in linked and "libubsan" in linked, linked
