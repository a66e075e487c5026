"""The fuzzer's starting inputs: ``python -m tests.fuzz.seeds feed|snapshot DIR``.

scripts/fuzz writes them into its working corpus beside the kept one
(tests/fuzz/corpus/), so a run starts from valid canonical lines, the near-misses the
loaders' tests list, and logs cut short in awkward places (no final newline, half a
UTF-8 sequence, half an escape); and from valid snapshots of a few small states.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from netflag import __version__
from netflag.engine import Amount, Befriend, Engine, Params, Purchase, Unfriend, snapshot
from tests.io.test_bulk import ODD_LINES

ROOT = Path(__file__).resolve().parent.parent.parent
BUY = '{"event_type":"purchase", "timestamp":"2017-06-13 11:33:01", "id": "%s", "amount": "%s"}'
PAIR = '{"event_type":"%s", "timestamp":"2017-06-13 11:33:01", "id1": "%s", "id2": "%s"}'
CANONICAL = [
    BUY % ("1", "16.83"),
    BUY % ("2", "0.125"),
    BUY % ("u-7", "5"),
    PAIR % ("befriend", "1", "2"),
    PAIR % ("befriend", "2", "u-7"),
    PAIR % ("unfriend", "1", "2"),
    BUY % ("2", "999999999999.999"),
]
# Logs that end where a reader must not run past: no newline, half a UTF-8 sequence,
# half an escape, a lone carriage return, a half canonical line.
CUT = [
    BUY % ("1", "2"),
    (BUY % ("é", "2"))[:-10] + "\xe9",
    '{"event_type":"purchase", "id": "\\u00',
    '{"event_type":"purchase", "id": "\\',
    BUY % ("1", "2") + "\r",
    BUY[:40],
    (PAIR % ("befriend", "1", "2"))[:-3],
]


def feed_seeds() -> list[bytes]:
    """Batch-log bodies (what follows the parameters line)."""
    seeds = [line.encode() + b"\n" for line in CANONICAL + ODD_LINES]
    body = "\n".join(CANONICAL).encode()
    seeds += [body, body + b"\n", body.replace(b"\n", b"\r\n")]
    for cut in CUT:
        seeds.append(body + b"\n" + cut.encode("utf-8", "surrogatepass")[:-1])
        seeds.append(cut.encode("utf-8", "surrogatepass"))
    seeds.append(b"\xef\xbb\xbf" + body)
    seeds.append(b'{"D":"1", "T":"2", "k":"2.5"}\n' + body)
    for test in ("test_1", "bad_lines_skipped", "crlf_and_blank_lines", "bom_at_file_start"):
        batch = ROOT / "insight_testsuite" / "tests" / test / "log_input" / "batch_log.json"
        if batch.exists():
            seeds.append(batch.read_bytes().split(b"\n", 1)[-1][:4000])
    seeds.append(b"".join((ROOT / "log_input" / "batch_log.json").open("rb").readlines()[1:30]))
    return seeds


def snapshot_seeds() -> list[bytes]:
    """Snapshots without their first line (the fuzz check writes a matching one)."""
    engines = []
    for D, T in ((1, 2), (2, 3), (3, 5)):
        engine = Engine(Params(D, T))
        for n in range(T + 2):
            engine.apply(Purchase(n, str(n % 3), Amount(100 + n, 2)), check=False)
            engine.apply(Befriend(n, str(n % 3), str(n + 1)), check=False)
        engine.apply(Unfriend(9, "0", "1"), check=False)
        engines.append(engine)
    huge = Engine(Params(2, 2))
    huge.apply(Purchase(1, "a", Amount(10**30, 0)), check=False)
    engines += [huge, Engine(Params(1, 2))]
    seeds = []
    for engine in engines:
        whole = snapshot.dump(engine.state(), version=__version__, extra={"seq": 1})
        seeds.append(whole[snapshot.FIRST_LINE :])
    return seeds


def main() -> None:
    kind, folder = sys.argv[1], Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    for seed in feed_seeds() if kind == "feed" else snapshot_seeds():
        (folder / f"seed-{hashlib.sha1(seed).hexdigest()}").write_bytes(seed)  # noqa: S324


if __name__ == "__main__":
    main()
