#!/usr/bin/env bash
# Re-creation of the Insight coding-challenge test harness (anomaly detection).
#
# For each folder tests/<name>/ (or only the names given as arguments):
#   1. make a fresh temp/ holding a copy of the repo's src/ and run.sh,
#      the test's log_input/ and an empty log_output/;
#   2. run `bash run.sh` inside temp/;
#   3. compare temp/log_output/flagged_purchases.json with
#      tests/<name>/log_output/flagged_purchases.json using `diff -wubB`
#      (the output file must exist, even when nothing is flagged).
# Prints [PASS]/[FAIL] per test, then "[N/M] tests passed", and appends a
# dated "N of M tests passed" line to results.txt, as the original did.
#
# One deliberate change from the original: it always exited 0; this one exits
# 1 when any test fails (or the project layout is incomplete) so CI can use it.
#
# Works from any current directory; temp/ is removed on exit.
set -u

GRADER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT_PATH=$(dirname "${GRADER_ROOT}")
TEMP_PATH="${GRADER_ROOT}/temp"
OUTPUT_NAME=flagged_purchases.json

if [[ -t 1 ]]; then
  red=$'\033[0;31m' green=$'\033[0;32m' norm=$'\033[0m'
else
  red='' green='' norm=''
fi

cd "${GRADER_ROOT}" || exit 1
trap 'rm -rf "${TEMP_PATH}"' EXIT

# The project must provide run.sh and src/ (the original also checked this).
for needed in run.sh src; do
  if [[ ! -e "${PROJECT_PATH}/${needed}" ]]; then
    echo "[${red}FAIL${norm}]: no ${needed} found in ${PROJECT_PATH}"
    exit 1
  fi
done

if [[ $# -gt 0 ]]; then
  test_folders=("$@")
else
  test_folders=()
  for dir in tests/*/; do
    [[ -d "${dir}" ]] && test_folders+=("$(basename "${dir}")")
  done
fi

num_tests=${#test_folders[@]}
pass_cnt=0
if [[ ${num_tests} -eq 0 ]]; then
  echo "[${red}FAIL${norm}]: no tests found in ${GRADER_ROOT}/tests"
  exit 1
fi

for test_folder in "${test_folders[@]}"; do
  test_path="${GRADER_ROOT}/tests/${test_folder}"
  if [[ ! -d "${test_path}/log_input" ]]; then
    echo "[${red}FAIL${norm}]: ${test_folder}"
    echo "  no folder tests/${test_folder}/log_input"
    continue
  fi

  # fresh temp/ for every test
  rm -rf "${TEMP_PATH}"
  mkdir -p "${TEMP_PATH}/log_output"
  cp -r "${PROJECT_PATH}/src" "${TEMP_PATH}/"
  cp "${PROJECT_PATH}/run.sh" "${TEMP_PATH}/"
  cp -r "${test_path}/log_input" "${TEMP_PATH}/log_input"

  (cd "${TEMP_PATH}" && bash run.sh 2>&1)

  actual="${TEMP_PATH}/log_output/${OUTPUT_NAME}"
  expected="${test_path}/log_output/${OUTPUT_NAME}"
  if [[ -f "${actual}" && -f "${expected}" ]] && diff -wubB "${expected}" "${actual}" >/dev/null; then
    echo "[${green}PASS${norm}]: ${test_folder}"
    pass_cnt=$((pass_cnt + 1))
  else
    echo "[${red}FAIL${norm}]: ${test_folder}"
    if [[ ! -f "${actual}" ]]; then
      echo "  run.sh did not write log_output/${OUTPUT_NAME}"
    elif [[ ! -f "${expected}" ]]; then
      echo "  missing expected output tests/${test_folder}/log_output/${OUTPUT_NAME}"
    else
      diff -wubB --label expected --label actual "${expected}" "${actual}"
    fi
  fi
done

echo "[${pass_cnt}/${num_tests}] tests passed"
echo "[$(date)] ${pass_cnt} of ${num_tests} tests passed" >> "${GRADER_ROOT}/results.txt"

[[ ${pass_cnt} -eq ${num_tests} ]]
