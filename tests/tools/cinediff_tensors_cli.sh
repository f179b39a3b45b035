#!/usr/bin/env bash
# Tests of the cinediff-tensors command line: exit codes (0 ok, 2 bad input), a single
# "cinediff-tensors: ..." line on stderr for every error, nothing written on failure, and lossless
# conversions between .npy, .npz and .safetensors.
# Usage: cinediff_tensors_cli.sh TOOL FIXTURE_DIR WORK_DIR
set -u
tool=$1
fixtures=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_ok ARGS...: exit 0, nothing on stderr.
expect_ok() {
  "$tool" "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  [ $rc -eq 0 ] || fail "'$*' exited $rc: $(cat "$work/err")"
  [ -s "$work/err" ] && fail "'$*' wrote to stderr: $(cat "$work/err")"
  return 0
}

# expect_error PATTERN ARGS...: exit 2, exactly one stderr line starting with the tool's name and
# containing PATTERN, and no new file in the work folder.
expect_error() {
  local pattern=$1
  shift
  local before
  before=$(ls -A "$work" | grep -v '^out$\|^err$' | sort)
  "$tool" "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  [ $rc -eq 2 ] || fail "'$*' exited $rc, expected 2"
  [ "$(wc -l <"$work/err")" -eq 1 ] || fail "'$*' stderr is not one line: $(cat "$work/err")"
  grep -q '^cinediff-tensors: ' "$work/err" || fail "'$*' stderr lacks the prefix: $(cat "$work/err")"
  grep -qF -- "$pattern" "$work/err" || fail "'$*' stderr lacks '$pattern': $(cat "$work/err")"
  local after
  after=$(ls -A "$work" | grep -v '^out$\|^err$' | sort)
  [ "$before" = "$after" ] || fail "'$*' left files behind: $after"
  return 0
}

# info prints JSON naming every tensor.
expect_ok info "$fixtures/model.safetensors"
grep -q '"format": "safetensors"' "$work/out" || fail "info: no format"
grep -q '"name": "conv.weight"' "$work/out" || fail "info: no conv.weight"
grep -q '"dtype": "BF16"' "$work/out" || fail "info: no BF16"
grep -q '"note": "cinediff fixture"' "$work/out" || fail "info: no metadata"
expect_ok info "$fixtures/compressed.npz"
grep -q '"name": "frames"' "$work/out" || fail "info npz: no frames"
expect_ok info "$fixtures/f4_fortran.npy"
grep -q '"bytes": 96' "$work/out" || fail "info npy: byte size"
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/out" || fail "info output is not JSON"
fi
expect_ok --help

# Conversions keep every byte: npy -> safetensors -> npz -> npy gives np.save's file back.
expect_ok convert "$fixtures/f4_c.npy" "$work/a.safetensors"
expect_ok convert "$work/a.safetensors" "$work/a.npz" --compress
expect_ok convert "$work/a.npz" "$work/a.npy"
cmp -s "$fixtures/f4_c.npy" "$work/a.npy" || fail "npy -> safetensors -> npz -> npy is not byte-identical"
# safetensors -> safetensors reproduces the reference writer's file; via npz (no BF16) the data
# survive, compared through info.
expect_ok convert "$fixtures/model.safetensors" "$work/m.safetensors"
cmp -s "$fixtures/model.safetensors" "$work/m.safetensors" || fail "safetensors rewrite is not byte-identical"
expect_ok convert "$fixtures/stored.npz" "$work/s.safetensors"
expect_ok convert "$work/s.safetensors" "$work/s.npz"
expect_ok convert "$work/s.npz" "$work/s2.safetensors"
cmp -s "$work/s.safetensors" "$work/s2.safetensors" || fail "npz <-> safetensors round trip differs"

# Bad usage and bad input: exit 2, one line, nothing written.
rm -f "$work"/*.npy "$work"/*.npz "$work"/*.safetensors
expect_error "required" 
expect_error "required" info
expect_error "not expected" info a b
expect_error "cannot open" info "$work/missing.npy"
expect_error "BF16" convert "$fixtures/model.safetensors" "$work/x.npz"
expect_error "exactly one" convert "$fixtures/stored.npz" "$work/x.npy"
expect_error "unknown output format" convert "$fixtures/f4_c.npy" "$work/x.txt"
expect_error "--compress" convert "$fixtures/f4_c.npy" "$work/x.npy" --compress

head -c 100 "$fixtures/f4_c.npy" >"$work/cut.npy"
expect_error "truncated" info "$work/cut.npy"
expect_error "truncated" convert "$work/cut.npy" "$work/x.safetensors"
printf 'not a numpy file' >"$work/magic.npy"
expect_error "bad magic" info "$work/magic.npy"
head -c 300 "$fixtures/stored.npz" >"$work/cut.npz"
expect_error "cut.npz" convert "$work/cut.npz" "$work/x.npy"
# Header length 2^63 (absurd), bad JSON, overlapping offsets.
{ printf '\x00\x00\x00\x00\x00\x00\x00\x80{}'; } >"$work/huge.safetensors"
expect_error "exceeds the limit" info "$work/huge.safetensors"
{ printf '\x08\x00\x00\x00\x00\x00\x00\x00{"a":1,}'; } >"$work/json.safetensors"
expect_error "bad JSON" info "$work/json.safetensors"
header='{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}'
{ printf "\\x$(printf %02x ${#header})\\x00\\x00\\x00\\x00\\x00\\x00\\x00"; printf '%s' "$header"; printf 'xyz'; } \
  >"$work/overlap.safetensors"
expect_error "overlap" convert "$work/overlap.safetensors" "$work/x.npz"

# A failed convert over an existing file leaves it as it was.
cp "$fixtures/f4_c.npy" "$work/keep.npy"
expect_error "BF16" convert "$fixtures/model.safetensors" "$work/keep.npy"
cmp -s "$fixtures/f4_c.npy" "$work/keep.npy" || fail "a failed convert changed the existing output"
ls -A "$work" | grep -q '\.tmp-' && fail "temporary files left behind"

if [ $failures -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "cinediff-tensors CLI: all checks passed"
