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


Curves = dict[str, list[tuple[int, float]]]


def read_curves(path: Path) -> Curves:
    """The curves of an earlier run's results.json (``--before``), checked before any work."""
    import orjson

    try:
        curves = orjson.loads(path.read_bytes())["curves"]
        return {
            name: [(int(x), float(rate)) for x, rate in points] for name, points in curves.items()
        }
    except OSError as error:
        raise NetflagError(f"cannot read {path} (--before): {error.strerror}") from None
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise NetflagError(
            f"{path} (--before) is not the results.json of a netflag bench run with curves"
        ) from None


def plot_curves(curves: Curves, path: Path, machine: str, before: Curves | None = None) -> None:
    """Checks per second against users, D and T, side by side; an earlier run's dashed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise NetflagError('plotting needs matplotlib: pip install "netflag[bench]"') from None
    present = [name for name in TITLES if curves.get(name)]
    figure, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 3.6), squeeze=False)
    for axis, name in zip(axes[0], present, strict=True):
        if before and before.get(name):
            xs, ys = zip(*before[name], strict=True)
            axis.plot(xs, ys, marker="o", linestyle="--", color="0.6", label="before")
        xs, ys = zip(*curves[name], strict=True)
        title, logx = TITLES[name]
        axis.plot(xs, ys, marker="o", label="this run")
        if before and before.get(name):
            axis.legend(fontsize=8)
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
