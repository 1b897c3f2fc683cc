"""`airlock init` and a pip-installed Airlock: from an empty folder to a running sandbox."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from bot.base.specs import load_specs
from bot.scaffold import EXAMPLE_WORKFLOWS, init_folder
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
# Builds and installs wheels; the installed app runs on its own SQLite file whatever the run.
pytestmark = pytest.mark.no_database
NOT_SHIPPED = (".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", "test-artifacts")
PACKAGES = ("bot", "handlers", "models")  # the top level the design fixes


def test_init_writes_examples_and_env_then_keeps_them(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    first = init_folder(target)
    names = sorted(p.name for p in first.written)
    assert names == sorted([".env", *(p.name for p in (ROOT / "workflows").glob("*.yml"))])
    specs = load_specs(target / "workflows")
    assert specs.errors == [] and len(specs.specs) == 5
    assert (target / ".env").stat().st_mode & 0o777 == 0o600  # secrets go in it
    (target / ".env").write_text("PORT=4000\n")
    again = init_folder(target)
    assert again.written == [] and len(again.kept) == 6
    assert (target / ".env").read_text() == "PORT=4000\n"


def test_init_refuses_a_file_as_folder(tmp_path: Path) -> None:
    file = tmp_path / "taken"
    file.write_text("x")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        init_folder(file)


def test_examples_ship_in_the_package() -> None:
    assert sorted(p.name for p in EXAMPLE_WORKFLOWS.glob("*.yml")) == sorted(
        p.name for p in (ROOT / "workflows").glob("*.yml")
    )


def test_missing_workflows_folder_says_where_and_what_to_do(tmp_path: Path) -> None:
    errors = load_specs(tmp_path / "nowhere").errors
    assert errors == [
        f"{tmp_path / 'nowhere'}: workflows folder not found: set AIRLOCK_WORKFLOWS to a folder "
        "of workflow YAML files, or run `airlock init` here to write the examples"
    ]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout's wheel, built once, from a copy without build leftovers.

    pip builds in the source tree (build/, *.egg-info): a copy keeps two test runs at once (CI
    runs SQLite and PostgreSQL side by side) apart, and setuptools packs whatever an earlier
    build left in build/lib, deleted modules included (pypa/setuptools#1871).
    """
    src = tmp_path_factory.mktemp("checkout") / "airlock"
    # The whole checkout (tests/ and bench/ too: the wheel must leave them out), minus leftovers.
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out)]
    subprocess.run([*build, str(src)], check=True, capture_output=True, timeout=600)
    (found,) = out.glob("airlock-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with Airlock pip-installed (not editable)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True, timeout=600)
    return venv / "bin" / "airlock"


def test_wheel_holds_only_airlocks_packages(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = wheel.name.split("-py3")[0] + ".dist-info"
    assert {name.split("/")[0] for name in names} == {*PACKAGES, dist_info}
    modules = {name for name in names if name.endswith(".py")}
    expected = {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert modules == expected  # no tests/, no bench/, nothing stale
    assert "bot/examples/workflows/opp-hygiene.yml" in names
    static = {p.name for p in (ROOT / "bot" / "sandbox" / "static").iterdir()}
    assert {n.rpartition("/")[2] for n in names if "/static/" in n} == static  # the /sandbox page
    entry_points = zipfile.ZipFile(wheel).read(f"{dist_info}/entry_points.txt").decode()
    assert entry_points.split() == ["[console_scripts]", "airlock", "=", "bot.cli:main"]


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESFORCE_"))}
    keep.pop("DATABASE_URL", None)
    keep.pop("AIRLOCK_WORKFLOWS", None)
    return keep | {"HOME": str(tmp)} | extra


def test_pip_install_then_init_and_serve(installed: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    # Before `init`: serve says what to do, and leaves no database behind.
    early = subprocess.run(
        [str(installed), "serve"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert early.returncode != 0
    assert "workflows folder not found" in early.stderr and "airlock init" in early.stderr
    assert "alembic" not in early.stderr + early.stdout
    assert list(tmp_path.iterdir()) == []
    subprocess.run([str(installed), "init", "demo"], cwd=tmp_path, env=env, check=True)
    port = free_port()
    serve = subprocess.Popen(
        [str(installed), "serve"],
        cwd=tmp_path / "demo",
        env=env | {"PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/sandbox", serve)
        assert "Airlock sandbox" in page
    finally:
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=30)
    # uvicorn finishes the graceful shutdown, then re-raises SIGTERM so the exit says why.
    assert serve.returncode in (0, -signal.SIGTERM), out
    assert "Traceback" not in out
    assert (tmp_path / "demo" / "airlock.db").exists()
    # One line for the schema, not Alembic's twenty
    assert "database schema upgraded from empty to" in out and "alembic" not in out, out


def test_pip_installed_demo_runs(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(installed), "demo"],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "auto-pause" in done.stdout


def _wait_for(url: str, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"serve exited early: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200:
                return answer.text
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within 60 s")
