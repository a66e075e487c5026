"""run.py is the atheris fuzzer's entry point (scripts/fuzz), not a test module: it imports
atheris, which only the fuzzing runs install."""

collect_ignore = ["run.py"]
