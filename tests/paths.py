"""Where the repository's own data lives, for tests at any depth of the tree."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHALLENGE_TESTS = ROOT / "insight_testsuite" / "tests"
OFFICIAL = CHALLENGE_TESTS / "test_1"  # the challenge's own test: log_input/ and log_output/
BUNDLED = ROOT / "log_input"  # the sample run.sh replays
DOCS = ROOT / "docs"
