"""The scaling curves as one PNG (matplotlib, from the ``bench`` extra)."""

from __future__ import annotations

from pathlib import Path

from netflag.errors import NetflagError

TITLES = {
    "users": ("users in the graph (D=3, T=50)", True),
    "D": ("network degree D (T=50)", False),
    "T": ("tracked purchases T (D=3)", True),
}


def require_matplotlib() -> None:
    """Fail at once, with the extra to install, when matplotlib is missing."""
    from importlib.util import find_spec

    if find_spec("matplotlib") is None:
        raise NetflagError(
            'plotting needs matplotlib: pip install "netflag[bench]" (or --no-curves)'
        )


def plot_curves(curves: dict[str, list[tuple[int, float]]], path: Path, machine: str) -> None:
    """Checks per second against users, D and T, side by side."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise NetflagError('plotting needs matplotlib: pip install "netflag[bench]"') from None
    present = [name for name in TITLES if curves.get(name)]
    figure, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 3.6), squeeze=False)
    for axis, name in zip(axes[0], present, strict=True):
        xs, ys = zip(*curves[name], strict=True)
        title, logx = TITLES[name]
        axis.plot(xs, ys, marker="o")
        if logx:
            axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel(title)
        axis.set_ylabel("checked purchases per second")
        axis.grid(True, which="both", alpha=0.3)
    figure.suptitle(f"netflag checks per second ({machine})", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
