"""deploy/Dockerfile, parsed with BuildKit's own parser (the `dockerfile` package).

Docker can't build here, so these check what a build would rely on: the base image, what is
copied (and that the ignore file lets it through), how the project is installed, the user,
the ports, the health check and the entrypoint. test_entrypoint.py runs the entrypoint.
"""

import tomllib
from typing import Any

import dockerfile

from tests.deploy.support import DEPLOY, REPO_ROOT, SERVICES

DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
BASE_IMAGE = "python:3.11-slim"


def commands() -> list[Any]:
    return list(dockerfile.parse_file(str(DOCKERFILE)))


def final_stage() -> list[Any]:
    parsed = commands()
    last_from = max(i for i, c in enumerate(parsed) if c.cmd == "FROM")
    return parsed[last_from:]


def only(stage: list[Any], cmd: str) -> Any:
    found = [c for c in stage if c.cmd == cmd]
    assert len(found) == 1, f"{len(found)} {cmd} instructions"
    return found[0]


def test_every_stage_is_python_311_slim() -> None:
    assert [c.value[0] for c in commands() if c.cmd == "FROM"] == [BASE_IMAGE, BASE_IMAGE]


def test_nothing_is_added_from_urls_or_archives() -> None:
    # COPY is explicit; ADD would fetch URLs and unpack archives.
    assert not [c for c in commands() if c.cmd == "ADD"]


def test_the_project_is_installed_with_the_constraints_and_without_dev_extras() -> None:
    installs = [c.value[0] for c in commands() if c.cmd == "RUN" and "pip install" in c.value[0]]
    assert len(installs) == 1
    words = installs[0].split()
    assert words[words.index("-c") + 1] == "constraints.txt"
    assert words[-1] == "."
    assert not any("[dev]" in word or word == "-e" for word in words)


def test_what_the_install_needs_is_copied_and_let_through_the_ignore_file() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [
        pattern.rstrip("*")
        for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    ]
    needed = {"pyproject.toml", "constraints.txt", pyproject["project"]["readme"], *packages}
    copied = {
        source
        for c in commands()
        if c.cmd == "COPY" and not any(f.startswith("--from") for f in c.flags)
        for source in c.value[:-1]
    }
    assert needed <= copied
    allowed = {
        line[1:]
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line[:1] == "!"
    }
    for source in copied:
        assert (REPO_ROOT / source).exists(), source
        assert source in allowed, f"{source} is excluded from the build context"


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    user = only(final_stage(), "USER").value[0]
    uid = user.split(":")[0]
    assert uid.isdigit(), "a numeric user lets Kubernetes check runAsNonRoot"
    assert int(uid) != 0


def test_the_four_service_ports_are_exposed() -> None:
    exposed = {int(port) for port in only(final_stage(), "EXPOSE").value}
    assert exposed == {s.port for s in SERVICES}


def test_the_entrypoint_is_the_copied_script_and_serve_is_the_default() -> None:
    stage = final_stage()
    (script,) = [c for c in stage if c.cmd == "COPY" and c.value[0] == "deploy/entrypoint.sh"]
    assert "--chmod=0755" in script.flags
    installed = script.value[-1]
    entrypoint = only(stage, "ENTRYPOINT")
    assert entrypoint.json
    assert entrypoint.value[0] in (installed, installed.rsplit("/", 1)[-1])
    assert only(stage, "CMD").value == ("serve",)


def test_the_health_check_runs_the_entrypoints_healthcheck() -> None:
    healthcheck = only(final_stage(), "HEALTHCHECK")
    assert healthcheck.value == ("CMD", "market-entrypoint", "healthcheck")
    script = (DEPLOY / "entrypoint.sh").read_text(encoding="utf-8")
    assert "/healthz" in script
