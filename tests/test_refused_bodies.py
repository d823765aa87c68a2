"""A refused request body is let go with its answer, not kept until the garbage collector's
next pass (which a server makes seldom: main.settle_long_lived_objects). With Python's own
700 objects a pass the bodies would not pile up either: this holds the two together."""

from pathlib import Path

import httpx

from tests.fixtures.server import run_cli, start_server

BODY_BYTES = 900_000  # under the default limit of a request body (1 MB)


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0])


def test_a_flood_of_refused_megabyte_bodies_does_not_stay_in_the_servers_memory(
    tmp_path: Path,
) -> None:
    env = {"BUURTPLUS_DATABASE_URL": f"sqlite:///{tmp_path / 'flood.db'}", "BUURTPLUS_DEMO": "true"}
    for step in (("db", "upgrade"), ("demo", "seed")):
        assert run_cli(*step, env=env).returncode == 0
    server, base = start_server(env)
    body = b'{"description": "' + b"x" * BODY_BYTES  # never closed: not JSON
    answers: list[int] = []
    try:
        with httpx.Client(base_url=base, timeout=30) as client:

            def refused(count: int) -> None:
                for _ in range(count):
                    answer = client.post(
                        "/api/v1/signals",
                        content=body,
                        headers={"Content-Type": "application/json"},
                    )
                    answers.append(answer.status_code)

            refused(20)  # the server's own first growth (buffers, the allocator's arenas)
            before = _rss_kib(server.process.pid)
            refused(150)  # 135 MB of bodies
            after = _rss_kib(server.process.pid)
    finally:
        server.stop()

    assert set(answers) == {422}
    assert after - before < 40 * 1024, f"the server grew by {(after - before) // 1024} MB"
