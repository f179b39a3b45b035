#!/usr/bin/env bash
# Tests of the cinediff-ops command line (no Python needed): `list` names every op as JSON, `run`
# writes outputs and gradients with the inputs' dtypes and shapes, and every mistake exits 2 with
# one "cinediff-ops: ..." line on stderr and no file written. Numeric checks against PyTorch are in
# tests/unit/tools/cinediff_ops_golden_test.cpp.
# Usage: cinediff_ops_cli.sh TOOL FIXTURE_DIR WORK_DIR
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
  "$tool" "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  [ $rc -eq 0 ] || fail "'$*' exited $rc: $(cat "$work/stderr")"
  [ -s "$work/stderr" ] && fail "'$*' wrote to stderr: $(cat "$work/stderr")"
  return 0
}

# expect_error PATTERN ARGS...: exit 2, exactly one stderr line starting with the tool's name and
# containing PATTERN, and no new file anywhere below the work folder (the out folder included).
expect_error() {
  local pattern=$1
  shift
  local before
  before=$(cd "$work" && find . -path ./stdout -prune -o -path ./stderr -prune -o -print | sort)
  "$tool" "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  [ $rc -eq 2 ] || fail "'$*' exited $rc, expected 2"
  [ "$(wc -l <"$work/stderr")" -eq 1 ] || fail "'$*' stderr is not one line: $(cat "$work/stderr")"
  grep -q '^cinediff-ops: ' "$work/stderr" || fail "'$*' stderr lacks the prefix: $(cat "$work/stderr")"
  grep -qF -- "$pattern" "$work/stderr" || fail "'$*' stderr lacks '$pattern': $(cat "$work/stderr")"
  local after
  after=$(cd "$work" && find . -path ./stdout -prune -o -path ./stderr -prune -o -print | sort)
  [ "$before" = "$after" ] || fail "'$*' left files behind: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')"
  return 0
}

# same FILE_A FILE_B WHAT: byte-identical .npy files.
same() {
  cmp -s "$1" "$2" || fail "$3: $1 and $2 differ"
}

# make_npy FILE DESCR SHAPE COUNT: a C-order .npy of COUNT zero elements (descr <f4, <f8 or <i8).
make_npy() {
  local dict="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
  local header=$(((10 + ${#dict} + 1 + 63) / 64 * 64 - 10))
  local size=${2:2}
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((header % 256)))\\x$(printf %02x $((header / 256)))"
    printf '%s%*s\n' "$dict" $((header - ${#dict} - 1)) ''
    head -c $(($4 * size)) /dev/zero
  } >"$1"
}

# ---- list: JSON naming every op -------------------------------------------------------------------
expect_ok list
head -c 1 "$work/stdout" | grep -q '^\[$' || fail "list does not start with ["
[ "$(tail -n 1 "$work/stdout")" = "]" ] || fail "list does not end with ]"
ops="linear matmul bmm conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d
  group_norm layer_norm batch_norm instance_norm rms_norm adain
  relu leaky_relu silu gelu sigmoid tanh softplus softmax log_softmax dropout
  embedding get_timestep_embedding
  avg_pool1d avg_pool2d avg_pool3d max_pool1d max_pool2d max_pool3d
  adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d interpolate pad
  cat stack split chunk index_select gather cumsum logsumexp fft2 fft2_complex ifft2
  mse_loss l1_loss smooth_l1_loss cross_entropy nll_loss binary_cross_entropy_with_logits kl_div
  dice_loss focal_frequency_loss"
for op in $ops; do
  grep -q "^    \"name\": \"$op\",\$" "$work/stdout" || fail "list lacks op $op"
done
# Every op has the four keys; inputs and attributes carry their flags, types and defaults.
count=$(grep -c '^    "name": ' "$work/stdout")
[ "$(grep -c '^    "inputs": ' "$work/stdout")" -eq "$count" ] || fail "list: an op lacks inputs"
[ "$(grep -c '^    "attributes": ' "$work/stdout")" -eq "$count" ] || fail "list: an op lacks attributes"
[ "$(grep -c '^    "outputs": ' "$work/stdout")" -eq "$count" ] || fail "list: an op lacks outputs"
grep -q '"differentiable": false' "$work/stdout" || fail "list: no non-differentiable input"
grep -q '"optional": true' "$work/stdout" || fail "list: no optional input"
grep -q '"type": "ints"' "$work/stdout" || fail "list: no ints attribute"
grep -q '"default": null' "$work/stdout" || fail "list: no required attribute"
if command -v python3 >/dev/null; then # optional: a full JSON parse where Python is available
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/stdout" || fail "list output is not JSON"
fi

# ---- run: outputs and gradients, dtypes kept -------------------------------------------------------
f4=$fixtures/f4_c.npy # float32 (2, 3, 4): -2.5, -2.25, ..., 3.25
f8=$fixtures/f8_c.npy # the same values in float64
for x in "$f4" "$f8"; do
  rm -rf "$work/o"
  # dropout in evaluation is the identity: out is the input, grad_input the upstream gradient.
  expect_ok run dropout --in input="$x" --attr training=false --out "$work/o" --grad out="$x"
  same "$work/o/out.npy" "$x" "dropout(training=false)"
  same "$work/o/grad_input.npy" "$x" "dropout(training=false) gradient"
  # split into pieces of 1 along dim 0, then cat them back: the input again.
  expect_ok run split --in input="$x" --attr split_size_or_sections=1 --out "$work/o"
  [ -f "$work/o/out0.npy" ] && [ -f "$work/o/out1.npy" ] || fail "split: out0/out1 missing"
  [ -f "$work/o/out2.npy" ] && fail "split: wrote out2 for 2 pieces"
  expect_ok run cat --in input0="$work/o/out0.npy" --in input1="$work/o/out1.npy" --attr dim=0 --out "$work/c" \
    --grad out="$x"
  same "$work/c/out.npy" "$x" "cat(split(x))"
  same "$work/c/grad_input1.npy" "$work/o/out1.npy" "cat gradient"
  # zero padding is the identity; relu's gradient passes only where the input is positive.
  expect_ok run pad --in input="$x" --attr pad=0,0,0,0 --out "$work/p"
  same "$work/p/out.npy" "$x" "pad(0)"
  rm -rf "$work/o" "$work/c" "$work/p"
done
# Gradients only for differentiable inputs: embedding's indices get none.
make_npy "$work/idx.npy" '<i8' '(3,)' 3
make_npy "$work/table.npy" '<f4' '(5, 2)' 10
make_npy "$work/gy.npy" '<f4' '(3, 2)' 6
expect_ok run embedding --in input="$work/idx.npy" --in weight="$work/table.npy" --out "$work/e" --grad out="$work/gy.npy"
[ -f "$work/e/out.npy" ] && [ -f "$work/e/grad_weight.npy" ] || fail "embedding: out or grad_weight missing"
[ -f "$work/e/grad_input.npy" ] && fail "embedding: wrote a gradient for int64 indices"
# max_pool's indices are an output that takes no --grad.
make_npy "$work/img.npy" '<f8' '(1, 1, 4, 4)' 16
make_npy "$work/gp.npy" '<f8' '(1, 1, 2, 2)' 4
expect_ok run max_pool2d --in input="$work/img.npy" --attr kernel_size=2 --attr return_indices=true --out "$work/m" \
  --grad out="$work/gp.npy"
[ -f "$work/m/indices.npy" ] && [ -f "$work/m/grad_input.npy" ] || fail "max_pool2d: indices or grad_input missing"
rm -rf "$work/e" "$work/m"

# ---- mistakes: exit 2, one line, nothing written ---------------------------------------------------
out=$work/out
expect_error "required" run
expect_error "unknown op 'no_such_op'" run no_such_op --in input="$f4" --out "$out"
expect_error "missing input 'weight'" run conv2d --in input="$work/img.npy" --out "$out"
expect_error "unknown input 'wieght'" run linear --in input="$f4" --in wieght="$f4" --out "$out"
expect_error "cannot open" run relu --in input="$work/missing.npy" --out "$out"
expect_error "must be NAME=VALUE" run relu --in "$f4" --out "$out"
expect_error "is not a number" run leaky_relu --in input="$f4" --attr negative_slope=abc --out "$out"
expect_error "must be true or false" run dropout --in input="$f4" --attr training=maybe --out "$out"
expect_error "unknown attribute 'dimension'" run softmax --in input="$f4" --attr dimension=1 --out "$out"
expect_error "missing attribute 'dim'" run softmax --in input="$f4" --out "$out"
expect_error "must be one of" run gelu --in input="$f4" --attr approximate=fast --out "$out"
expect_error "needs 2 values" run avg_pool2d --in input="$work/img.npy" --attr kernel_size=2,2,2 --out "$out"
expect_error "expected rank 4" run conv2d --in input="$f4" --in weight="$f4" --out "$out"
expect_error "supported ranks are 3 to 5" run interpolate --in input="$work/table.npy" --attr size=4 --out "$out"
expect_error "must be float32 or float64" run relu --in input="$work/idx.npy" --out "$out"
expect_error "has dtype F64, expected F32" run mse_loss --in input="$f4" --in target="$f8" --out "$out"
expect_error "not an output of relu" run relu --in input="$f4" --out "$out" --grad grad_input="$f4"
expect_error "did not produce" run split --in input="$f4" --attr split_size_or_sections=1 --out "$out" --grad out0="$f4" \
  --grad out5="$f4"
expect_error "not differentiable" run max_pool2d --in input="$work/img.npy" --attr kernel_size=2 \
  --attr return_indices=true --out "$out" --grad out="$work/gp.npy" --grad indices="$work/gp.npy"
make_npy "$work/piece.npy" '<f4' '(1, 3, 4)' 12
expect_error "upstream gradient is needed" run split --in input="$f4" --attr split_size_or_sections=1 --out "$out" \
  --grad out0="$work/piece.npy"
expect_error "--grad out has" run relu --in input="$f4" --out "$out" --grad out="$work/gy.npy"
expect_error "does not match" run mse_loss --in input="$f4" --in target="$work/gy.npy" --out "$out"
# Errors found by the library itself (shapes, values) follow the same contract.
expect_error "dropout" run dropout --in input="$f4" --attr p=1.5 --out "$out"
make_npy "$work/wide.npy" '<f4' '(2, 2, 5)' 20
expect_error "sizes of tensors must match" run cat --in input0="$f4" --in input1="$work/wide.npy" --attr dim=1 --out "$out"
expect_error "input2 is given but input1 is not" run cat --in input0="$f4" --in input2="$f4" --out "$out"
[ -e "$out" ] && fail "a failed run created the out folder"

if [ $failures -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "cinediff-ops CLI: all checks passed"
