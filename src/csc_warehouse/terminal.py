"""The terminal of ``cscw`` and its sub-apps: one stderr console, and step lines with
timings (progress that works in CI logs too)."""

from __future__ import annotations

import time

from rich.console import Console

console = Console(stderr=True, highlight=False)


class Steps:
    """Clear step lines with timings (progress that works in CI logs too)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def __call__(self, name: str):
        steps = self

        class _Step:
            def __enter__(self):
                self.t = time.monotonic()
                console.print(f"[bold cyan]→[/] {name} ...")
                return self

            def __exit__(self, exc_type, exc, tb):
                took = time.monotonic() - self.t
                steps.timings[name] = took
                mark = "[green]✓[/]" if exc_type is None else "[red]✗[/]"
                console.print(f"{mark} {name} [dim]({took:.1f}s)[/]")
                return False

        return _Step()
