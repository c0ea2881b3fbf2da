#!/usr/bin/env python3
"""`migrator generate` on schemas of N tables, with Alembic autogenerate on the
same models for reference.

Usage: bench/generate/run.py [--profile] [N ...]   (default: 100 1000 10000)

For each N it writes, in a temporary folder:
  - a migrator project: N `#[derive(Model)]` structs (50 per source file, each
    table with 6 columns, a foreign key to the previous table, an index and a
    unique column), and the same N tables as SQLAlchemy models;
  - runs, with the release CLI (`cargo build --release -p migrator-cli`):
      1. `migrator generate initial`: the first migration (N CREATE TABLE);
      2. `migrator generate add_column` after adding one column to one model:
         the daily case, one change in a large schema (the edited file is
         written anew before each run, so each run parses it and reads the
         other files from the scan cache, a folder of the bench's own);
      3. `migrator generate` with nothing to change;
  - Alembic (if `alembic` and `sqlalchemy` import; a venv works:
    `python3 -m venv /tmp/alembic-venv && /tmp/alembic-venv/bin/pip install
    alembic sqlalchemy`, then run this script with that python): `alembic
    revision --autogenerate` for the initial revision, `alembic upgrade head`
    on SQLite, then autogenerate for the one added column (Alembic compares
    the models with a live database, so that step includes reflecting N
    tables from SQLite).

Each migrator timing is the median of 9 runs, printed with the fastest and
slowest (wall time of the whole process, as a user sees it), except the
initial step, which runs once; the peak memory (maximum resident set) is
the largest of those runs. Alembic's are the best of 3, one run on more
than 1,000 tables (each takes minutes). It prints a Markdown table;
progress goes to stderr as each size finishes.

`--profile` runs the one-added-column step once more per size with
`MIGRATOR_TIMINGS=1`, which makes the CLI print the time of each phase of
`generate` (reading the snapshot and the migrations, scanning the models,
diffing, writing the texts) to stderr.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(ROOT, "target", "release", "migrator")
PER_FILE = 50


def model(i):
    fk = (
        f'    #[model(index, foreign_key = "t_{i - 1:05}.id", on_delete = "cascade")]\n'
        f"    pub parent_id: Option<i64>,\n"
        if i > 0
        else "    pub parent_id: Option<i64>,\n"
    )
    return (
        f"#[derive(Model)]\n"
        f'#[model(table = "t_{i:05}")]\n'
        f"pub struct T{i:05} {{\n"
        f"    #[model(primary_key, auto_increment)]\n"
        f"    pub id: i64,\n"
        f"{fk}"
        f"    #[model(max_length = 100, unique)]\n"
        f"    pub code: String,\n"
        f"    pub title: String,\n"
        f'    #[model(default = 0)]\n'
        f"    pub points: i32,\n"
        f"    pub done: bool,\n"
        f"}}\n\n"
    )


def sqlalchemy_model(i):
    fk = (
        f'    parent_id = Column(BigInteger, ForeignKey("t_{i - 1:05}.id", ondelete="CASCADE"), index=True)\n'
        if i > 0
        else "    parent_id = Column(BigInteger)\n"
    )
    return (
        f"class T{i:05}(Base):\n"
        f'    __tablename__ = "t_{i:05}"\n'
        f"    id = Column(BigInteger, primary_key=True, autoincrement=True)\n"
        f"{fk}"
        f"    code = Column(String(100), nullable=False, unique=True)\n"
        f"    title = Column(Text, nullable=False)\n"
        f'    points = Column(Integer, nullable=False, server_default="0")\n'
        f"    done = Column(Boolean, nullable=False)\n\n"
    )


def write_migrator(dir, n, extra_column=False, tag=None):
    src = os.path.join(dir, "src")
    os.makedirs(src, exist_ok=True)
    for start in range(0, n, PER_FILE):
        body = "use migrator::Model;\n\n" + "".join(
            model(i) for i in range(start, min(n, start + PER_FILE))
        )
        if extra_column and start == 0:
            body = body.replace(
                "    pub done: bool,\n}", "    pub done: bool,\n    pub note: Option<String>,\n}", 1
            )
            if tag is not None:
                body += f"// run {tag}\n"
        with open(os.path.join(src, f"m_{start // PER_FILE:04}.rs"), "w") as f:
            f.write(body)


def write_alembic(dir, n, extra_column=False):
    body = (
        "from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, String, Text\n"
        "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n\n"
        + "".join(sqlalchemy_model(i) for i in range(n))
    )
    if extra_column:
        body = body.replace(
            "    done = Column(Boolean, nullable=False)\n",
            "    done = Column(Boolean, nullable=False)\n    note = Column(Text)\n",
            1,
        )
    with open(os.path.join(dir, "models.py"), "w") as f:
        f.write(body)


def timed(cmd, cwd, env=None):
    dt, out, _ = measured(cmd, cwd, env)
    return dt, out


def measured(cmd, cwd, env=None):
    """Wall time, output and peak resident memory (MB) of one process."""
    t = time.perf_counter()
    p = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{out}")
    return dt, out, usage.ru_maxrss / 1024


class Runs:
    """Repeated runs of one step: median, fastest, slowest, peak memory."""

    def __init__(self, times, peak_mb):
        self.times = sorted(times)
        self.peak_mb = peak_mb

    @property
    def median(self):
        return self.times[len(self.times) // 2]

    def ms(self):
        return f"{self.median * 1000:.0f} ({self.times[0] * 1000:.0f}-{self.times[-1] * 1000:.0f})"


def repeated(cmd, cwd, reset=None, runs=9):
    times, peak = [], 0.0
    for _ in range(runs):
        if reset:
            reset()
        dt, _, mb = measured(cmd, cwd)
        times.append(dt)
        peak = max(peak, mb)
    return Runs(times, peak)


def best(cmd, cwd, reset=None, env=None, runs=3):
    times = []
    for _ in range(runs):
        if reset:
            reset()
        dt, _ = timed(cmd, cwd, env)
        times.append(dt)
    return min(times)


def bench_migrator(n, tmp, profile=False):
    d = os.path.join(tmp, f"migrator_{n}")
    os.makedirs(d)
    timed([CLI, "--dir", d, "init"], d)
    write_migrator(d, n)
    initial, _, initial_mb = measured([CLI, "--dir", d, "generate", "initial"], d)
    mig = os.path.join(d, "migrations")
    saved = os.path.join(tmp, f"saved_{n}")
    shutil.copytree(mig, saved)

    runs = [0]

    def reset():
        shutil.rmtree(mig)
        shutil.copytree(saved, mig)
        # The edited model file differs in every run (a comment), so each
        # run parses it anew and takes the others from the scan cache: the
        # daily case, one edited file.
        runs[0] += 1
        write_migrator(d, n, extra_column=True, tag=runs[0])

    write_migrator(d, n, extra_column=True)
    one = repeated([CLI, "--dir", d, "generate", "add_column"], d, reset)
    if profile:
        reset()
        r = subprocess.run(
            [CLI, "--dir", d, "generate", "add_column"],
            cwd=d,
            env=dict(os.environ, MIGRATOR_TIMINGS="1"),
            capture_output=True,
            text=True,
        )
        phases = [line for line in r.stderr.splitlines() if line.startswith("timing:")]
        print(f"{n} tables, one added column, phases:", *phases, sep="\n  ", file=sys.stderr)
    # The last run left the added column's migration in place: nothing to do.
    nothing = repeated([CLI, "--dir", d, "generate", "nothing"], d)
    _, out = timed([CLI, "--dir", d, "generate", "nothing"], d)
    assert "no changes" in out.lower(), out
    return initial, initial_mb, one, nothing


def bench_alembic(n, tmp):
    try:
        import alembic  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError:
        return None
    d = os.path.join(tmp, f"alembic_{n}")
    os.makedirs(d)
    alembic = [sys.executable, "-m", "alembic"]
    timed(alembic + ["init", "-t", "generic", "alembic"], d)
    env_py = os.path.join(d, "alembic", "env.py")
    with open(env_py) as f:
        text = f.read()
    text = text.replace(
        "target_metadata = None",
        "import sys, os\nsys.path.insert(0, os.getcwd())\nfrom models import Base\ntarget_metadata = Base.metadata",
    )
    with open(env_py, "w") as f:
        f.write(text)
    ini = os.path.join(d, "alembic.ini")
    with open(ini) as f:
        text = f.read()
    text = text.replace(
        "sqlalchemy.url = driver://user:pass@localhost/dbname", "sqlalchemy.url = sqlite:///bench.db"
    )
    with open(ini, "w") as f:
        f.write(text)
    write_alembic(d, n)
    initial, _ = timed(alembic + ["revision", "--autogenerate", "-m", "initial"], d)
    timed(alembic + ["upgrade", "head"], d)
    write_alembic(d, n, extra_column=True)
    versions = os.path.join(d, "alembic", "versions")
    before = set(os.listdir(versions))

    def reset():
        for f in set(os.listdir(versions)) - before:
            p = os.path.join(versions, f)
            if os.path.isfile(p):
                os.remove(p)

    # One run on the largest schemas: each takes minutes.
    runs = 3 if n <= 1000 else 1
    one = best(alembic + ["revision", "--autogenerate", "-m", "add_column"], d, reset, runs=runs)
    reset()
    return initial, one


def main():
    args = sys.argv[1:]
    profile = "--profile" in args
    sizes = [int(a) for a in args if a != "--profile"] or [100, 1000, 10000]
    if not os.path.exists(CLI):
        sys.exit("build the release CLI first: cargo build --release -p migrator-cli")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # A scan cache of the bench's own, not the user's.
        os.environ["MIGRATOR_CACHE_DIR"] = os.path.join(tmp, "cache")
        for n in sizes:
            m = bench_migrator(n, tmp, profile)
            a = bench_alembic(n, tmp)
            rows.append((n, m, a))
            print(f"{n} tables: migrator one added column {m[2].ms()} ms, alembic {a}", file=sys.stderr)
    print("| tables | migrator: first migration (s) | its peak memory (MB) | migrator: one added column (ms, median of 9, fastest-slowest) | its peak memory (MB) | migrator: nothing to do (ms) | Alembic autogenerate: first (s) | Alembic autogenerate: one added column (ms) |")
    print("|---|---|---|---|---|---|---|---|")
    for n, (mi, mi_mb, mo, mn), a in rows:
        ai, ao = (f"{a[0]:.2f}", f"{a[1] * 1000:.0f}") if a else ("-", "-")
        print(f"| {n:,} | {mi:.2f} | {mi_mb:.0f} | {mo.ms()} | {mo.peak_mb:.0f} | {mn.ms()} | {ai} | {ao} |")


if __name__ == "__main__":
    main()
