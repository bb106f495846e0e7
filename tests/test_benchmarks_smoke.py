"""The benchmark suite runs and its correctness check passes (no timing is asserted here)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class TestBenchmarkSmoke:
    def test_quick_run_verifies_against_the_sdk(self) -> None:
        """`benchmarks/run.py --quick` exits 0: sluice's final messages equal the SDK's."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--rounds", "1"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "targets:" in result.stdout

    def test_batch_results_quick_run_verifies(self) -> None:
        """`benchmarks/batch_results.py --quick` exits 0: results equal the SDK's."""
        result = subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "batch_results.py"),
                "--quick",
                "--rounds",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "verified" in result.stdout + result.stderr

    def test_operator_benchmarks_quick_run_verifies(self) -> None:
        """`benchmarks/ops.py --quick` exits 0: every pipeline's output was checked first."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "ops.py"), "--quick", "--rounds", "1"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def test_sync_client_quick_run_verifies(self) -> None:
        """`benchmarks/sync.py --quick` exits 0: both clients read the same final messages."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "sync.py"), "--quick", "--rounds", "1"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "sync / async" in result.stdout

    def test_hostile_input_quick_run(self) -> None:
        """`benchmarks/hostile.py --quick` exits 0: pathological framing and inflating gzip."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "hostile.py"), "--quick"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "longest step" in result.stdout

    def test_limits_quick_run(self) -> None:
        """`benchmarks/limits.py --quick` exits 0: both clients finish every request."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "limits.py"), "--quick"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "429s with the limiter" in result.stdout

    def test_relay_benchmark_quick_run_verifies(self) -> None:
        """`benchmarks/relay.py --quick` exits 0: every reader of every relay got every delta."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "relay.py"), "--quick"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "verified" in result.stdout
        # Runs too short for the CPU clock (10 ms ticks) say so instead of a made-up rate.
        rates = re.findall(r"([\d,]+|n/a) ev/s per relay core", result.stdout)
        assert rates and all(r == "n/a" or int(r.replace(",", "")) < 10**8 for r in rates)

    def test_relay_per_core_rate_needs_measurable_cpu(self) -> None:
        """A per-core rate from under 0.1 s of CPU time (a few clock ticks) is not given."""
        spec = importlib.util.spec_from_file_location(
            "relay_bench", ROOT / "benchmarks" / "relay.py"
        )
        assert spec is not None and spec.loader is not None
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
        assert bench.per_core(4000, 0.0) is None and bench.per_core(4000, 0.01) is None
        assert bench.per_core(1_000_000, 2.0) == 500_000
        assert bench.rate_text(None) == "n/a" and bench.rate_text(1234.4) == "1,234"

    def test_agent_benchmarks_quick_run_verifies(self) -> None:
        """`benchmarks/agent.py --quick` exits 0: the runner's conversation equals a hand loop's."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "agent.py"), "--quick"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "verified" in result.stdout
        assert "SDK tool_runner run_tools_eagerly" in result.stdout
