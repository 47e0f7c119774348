"""The narrated reload-agent demo (``make demo``): a running shop, edited, broken, fixed and rolled back live.

It copies ``examples/shop`` into a temporary directory (the repository's files are never touched), starts it under the
launcher with a private runtime directory, and drives it with the real ``reload-agent-cli``. Each step prints its
headline, the commands it runs with their real output, and what to notice. Every claim is checked: if the shop does
not behave as narrated, the demo says which step failed and exits 1, which makes it a test as well.

    python examples/demo.py [--shop DIR]

``--shop`` runs the same story on another copy of the shop package (the tests use it to show that the demo notices
when the shop misbehaves).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["main"]

SHOP = Path(__file__).resolve().parent / "shop"
STARTUP_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 10.0
# The agent's own variables from the caller's shell would point the CLI at some other agent.
FOREIGN_ENV = ("RELOAD_AGENT_ADDRESS", "RELOAD_AGENT_TOKEN", "RELOAD_AGENT_LISTEN")


class DemoFailed(Exception):
    """The shop did not behave as the narration says."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailed(what)


class Narrator:
    """Prints the story: bold numbered headlines, commands, indented output, and what to notice."""

    def __init__(self) -> None:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        self._bold = ("\033[1m", "\033[0m") if color else ("", "")
        self._dim = ("\033[2m", "\033[0m") if color else ("", "")
        self.step_no = 0

    def step(self, title: str) -> None:
        self.step_no += 1
        on, off = self._bold
        print(f"\n{on}{self.step_no}. {title}{off}", flush=True)

    def command(self, text: str) -> None:
        print(f"  $ {text}", flush=True)

    def output(self, text: str) -> None:
        on, off = self._dim
        for line in text.rstrip("\n").splitlines() or [""]:
            print(f"    {on}{line}{off}", flush=True)

    def notice(self, text: str) -> None:
        print(f"  -> {text}", flush=True)


class Demo:
    """The shop copy, its process, and the tools the steps use to poke at it."""

    def __init__(self, root: Path, narrator: Narrator, shop: Path = SHOP) -> None:
        self.say = narrator
        self.workdir = root / "app"
        self.runtime_dir = root / "run"
        self.port_file = root / "shop.port"
        self.log_file = root / "shop.log"
        shutil.copytree(shop, self.workdir / "shop", ignore=shutil.ignore_patterns("__pycache__"))
        self.env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
        self.env.update(RELOAD_AGENT_RUNTIME_DIR=str(self.runtime_dir), PYTHONDONTWRITEBYTECODE="1")
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    # -- the shop process ---------------------------------------------------------------------------------------

    def start(self) -> None:
        argv = [sys.executable, "-m", "reload_agent", "--quiet", "-m", "shop.app", "--port-file", "../shop.port"]
        self.say.notice(f"working on a copy of examples/shop in {self.workdir}")
        self.say.command(f"cd {shlex.quote(str(self.workdir))}")
        self.say.command("python " + shlex.join(argv[1:]))
        with open(self.log_file, "wb") as log:
            # A session of its own, so stop() can signal the shop and anything it started in one go.
            self.proc = subprocess.Popen(
                argv, cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        connection_file = self.runtime_dir / f"agent-{self.proc.pid}.json"
        # Neither the port file nor the connection file announces itself: poll both, with a deadline.
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not (self.port_file.exists() and connection_file.exists()):
            if self.proc.poll() is not None:
                raise DemoFailed(f"the shop exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise DemoFailed(f"the shop was not serving after {STARTUP_TIMEOUT_S:.0f} s:\n{self.log()}")
            time.sleep(0.02)
        self.port = int(self.port_file.read_text())
        self.say.output(self.log())
        address = json.loads(connection_file.read_text())["address"]
        self.say.notice(f"shop pid {self.proc.pid}, agent listening at {address} (found through {connection_file.name})")

    def stop(self) -> None:
        """Stop the shop's whole process group: SIGINT first (a clean exit), SIGKILL if that is not enough."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig, grace_s in ((signal.SIGINT, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=grace_s)
                return
            except subprocess.TimeoutExpired:
                continue

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    # -- what the steps do ---------------------------------------------------------------------------------------

    def cli(self, *args: str, expect_rc: int = 0, show: bool = True) -> tuple[str, float]:
        """Run ``reload-agent-cli ARGS`` (from this Python), show it, check its exit code; return output and seconds."""
        if show:
            self.say.command(f"reload-agent-cli {shlex.join(args)}")
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "reload_agent_client.cli", *args], cwd=self.workdir, env=self.env,
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as exc:
            raise DemoFailed(f"reload-agent-cli {shlex.join(args)} did not finish in {COMMAND_TIMEOUT_S:.0f} s") from exc
        elapsed = time.perf_counter() - started
        output = done.stdout + done.stderr
        if show:
            self.say.output(output)
        expect(done.returncode == expect_rc,
               f"reload-agent-cli {shlex.join(args)} exited {done.returncode}, expected {expect_rc}:\n{output}")
        return output, elapsed

    def get(self, path: str, expect_status: int = 200) -> str:
        """GET a page of the shop, show it, check the status; return the body."""
        url = f"http://127.0.0.1:{self.port}{path}"
        self.say.command(f"curl {url}")
        try:
            with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read().decode()
        except OSError as exc:
            raise DemoFailed(f"GET {url} failed: {exc}\n{self.log()}") from exc
        self.say.output(body if status == 200 else f"[HTTP {status}] {body}")
        expect(status == expect_status, f"GET {path} answered {status}, expected {expect_status}: {body}")
        return body.strip()

    def edit(self, relpath: str, old: str, new: str) -> int:
        """Replace the one occurrence of ``old`` in the copy's file, show the change; return its 1-based line."""
        path = self.workdir / relpath
        text = path.read_text()
        expect(text.count(old) == 1, f"{relpath} does not contain exactly one {old!r}")
        line = text[: text.index(old)].count("\n") + 1
        self.say.command(f"edit {relpath}:{line}")
        self.say.output("\n".join([*(f"- {s}" for s in old.splitlines()), *(f"+ {s}" for s in new.splitlines())]))
        path.write_text(text.replace(old, new))
        return line

    def transaction_ms(self) -> float:
        """How long the newest transaction took inside the shop, from the agent's history."""
        output, _ = self.cli("--json", "history", "--limit", "1", show=False)
        return float(json.loads(output)["transactions"][0]["durationMs"])


def index_fields(body: str) -> dict[str, str]:
    """Split the shop's front page ('greeting | label: n | model id (...)') into named parts."""
    greeting, counter, model = (part.strip() for part in body.split(" | "))
    label, visits = counter.rsplit(": ", 1)
    return {"greeting": greeting, "label": label, "visits": visits, "model": model.split()[1]}


def run_steps(demo: Demo) -> None:
    say = demo.say

    say.step("Start the tea shop under the agent")
    demo.start()
    say.notice("the launcher runs `python -m shop.app` as usual, with the agent listening inside the process;")
    say.notice("the recommendation model took about a second to build: a restart would pay that again.")
    demo.cli("list", "shop.*")

    say.step("The first response")
    first = index_fields(demo.get("/"))
    expect(first["visits"] == "1" and first["label"] == "visits", f"unexpected first page: {first}")
    say.notice(f"request counter at {first['visits']}, model {first['model']}: both live in the process's memory.")

    say.step("Edit a handler's body and reload it: patch mode")
    demo.edit("shop/views.py", 'greeting = "Welcome to the tea shop!"',
               'greeting = "Welcome to the tea shop, now reloaded live!"')
    output, wall_s = demo.cli("reload", "shop.views")
    expect("patch" in output, "the reload did not report patch mode")
    page = index_fields(demo.get("/"))
    expect(page["greeting"] == "Welcome to the tea shop, now reloaded live!", f"old greeting still served: {page}")
    expect(page["visits"] == "2" and page["model"] == first["model"], f"state was lost: {page}")
    say.notice(f"new text, same process: the counter went on to {page['visits']} and model {page['model']} was kept.")
    say.notice(f"the reload took {demo.transaction_ms():.1f} ms inside the shop "
               f"({wall_s * 1000:.0f} ms for the whole command, Python start-up included).")

    say.step("A syntax error: the reload fails, the shop keeps serving")
    line = demo.edit("shop/views.py", 'greeting = "Welcome to the tea shop, now reloaded live!"',
                     'greeting = ("Welcome to the tea shop, now with a typo!"')
    output, _ = demo.cli("reload", "shop.views", expect_rc=1)
    expect(f"views.py:{line}" in output, f"the failure does not point at views.py:{line}")
    page = index_fields(demo.get("/"))
    expect(page["greeting"] == "Welcome to the tea shop, now reloaded live!", f"the broken edit leaked: {page}")
    expect(page["visits"] == "3", f"state was lost: {page}")
    say.notice(f"the error names views.py:{line}; nothing in the process changed, the last good code still answers.")

    say.step("Fix it and reload again")
    demo.edit("shop/views.py", 'greeting = ("Welcome to the tea shop, now with a typo!"',
              'greeting = "Welcome back to the tea shop!"')
    demo.cli("reload", "shop.views")
    page = index_fields(demo.get("/"))
    expect(page["greeting"] == "Welcome back to the tea shop!" and page["visits"] == "4", f"fix not served: {page}")
    say.notice("the fixed code is live; the counter never stopped.")

    say.step("A full reload whose hooks carry the counter across")
    demo.edit("shop/stats.py", 'LABEL = "visits"', 'LABEL = "happy visitors"')
    output, _ = demo.cli("reload", "shop.stats")
    expect("full" in output, "a module-level change should have needed a full reload")
    page = index_fields(demo.get("/"))
    expect(page["label"] == "happy visitors", f"new label not served: {page}")
    expect(page["visits"] == "5", f"the hooks did not carry the counter: {page}")
    say.notice("a module-level line changed, so shop.stats ran its top level again and `hits = Counter()` started "
               "empty;")
    say.notice("__reload_dispose__ / __reload_accept__ handed the live counter over: 5, not 1.")

    say.step("Roll the last reload back")
    demo.cli("rollback")
    page = index_fields(demo.get("/"))
    expect(page["label"] == "visits" and page["visits"] == "6", f"rollback did not restore the label: {page}")
    expect(page["greeting"] == "Welcome back to the tea shop!", f"rollback undid too much: {page}")
    say.notice("shop.stats is exactly as before that reload (label 'visits'), and the counter still counts: the hooks "
               "passed the object itself.")

    say.step("A reload that breaks the health check is rolled back by itself")
    demo.edit("shop/views.py", "picks = model.current().suggest(item)", "picks = model.current().sugest(item)")
    check = f"{shlex.quote(sys.executable)} -m shop.healthcheck http://127.0.0.1:{demo.port}/health"
    output, _ = demo.cli("reload", "shop.views", "--verify", check, expect_rc=1)
    expect("roll" in output.lower(), "the output does not say the reload was rolled back")
    recommendation = demo.get("/recommend?item=sencha")
    expect(recommendation.endswith("honey, matcha, teapot"), f"the typo is still live: {recommendation}")
    demo.get("/health")
    say.notice("the typo compiled fine but failed at run time; the health check caught it and the CLI rolled the "
               "reload back.")

    say.step("The session's history")
    demo.cli("history")
    say.notice("every reload, failed or not, and every rollback is a numbered transaction; any of them can be undone.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The narrated reload-agent demo.")
    parser.add_argument("--shop", type=Path, default=SHOP, help="the shop package to copy (default: examples/shop)")
    args = parser.parse_args(argv)
    say = Narrator()
    started = time.perf_counter()
    # SIGTERM (a CI timeout, `kill`) takes the same clean-up path as Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="reload-agent-demo-") as tmp:
        demo = Demo(Path(tmp), say, args.shop)
        try:
            run_steps(demo)
        except DemoFailed as exc:
            print(f"\nDEMO FAILED at step {say.step_no}: {exc}", file=sys.stderr, flush=True)
            return 1
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130
        finally:
            # A second Ctrl-C must not cut the clean-up short and leave the shop running.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            demo.stop()
    print(f"\nDone in {time.perf_counter() - started:.1f} s: the shop is stopped and its temporary copy removed; "
          "the files in examples/ were never modified.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
