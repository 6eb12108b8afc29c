#!/usr/bin/env bash
# The error paths of `uredis-cli --decode` and of its command line: hostile input ends with exit
# status 1 and one "protocol error: ..." line, never a crash, a hang or a giant allocation; usage
# errors end with exit status 2.
#
#   decode_errors.sh UREDIS_CLI

# The inputs are printf formats: their dollars are RESP markers, not expansions.
# shellcheck disable=SC2016
set -u

uredis_cli=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0

fail() {
  echo "FAIL $1"
  echo "  stdout: $(od -An -c "$work/out" | head -n 3)"
  echo "  stderr: $(head -c 400 "$work/err")"
  failures=$((failures + 1))
}

# expect NAME STATUS STDERR_PATTERN STDOUT_EXACT, input on stdin. The pattern is a bash glob.
expect() {
  local name=$1 want_status=$2 want_err=$3 want_out=$4
  checks=$((checks + 1))
  # A 1 GiB ceiling on address space: a decoder that believed a hostile length would die here.
  # Sanitizer builds reserve terabytes of shadow memory up front, so they run without it.
  if [ $sanitized -eq 0 ]; then
    (ulimit -v 1048576; timeout 20 "$uredis_cli" --decode > "$work/out" 2> "$work/err")
  else
    timeout 20 "$uredis_cli" --decode > "$work/out" 2> "$work/err"
  fi
  local status=$?
  if [ $status -ne "$want_status" ]; then fail "$name: exit status $status, expected $want_status"; return; fi
  # shellcheck disable=SC2053
  if [[ $(cat "$work/err") != $want_err ]]; then fail "$name: stderr does not match '$want_err'"; return; fi
  if [ "$(cat "$work/out")" != "$want_out" ]; then fail "$name: unexpected stdout"; return; fi
}

perr='protocol error: '
# Sanitizers that reserve shadow memory cannot run under an address-space limit.
sanitized=0
if grep -qaE '__(asan|hwasan|msan|tsan)_init' "$uredis_cli"; then sanitized=1; fi

# Empty input prints nothing and succeeds.
expect empty 0 '' '' < /dev/null

printf 'x\r\n' | expect bad_type_byte 1 "${perr}invalid RESP type byte at byte 0" ''
printf '+OK\r\n:1\r\n?\r\n' | expect bad_type_after_replies 1 "${perr}invalid RESP type byte at byte 9" $'OK\n(integer) 1'
printf '\r\n' | expect bare_crlf 1 "${perr}invalid RESP type byte at byte 0" ''
printf '$-2\r\n' | expect negative_bulk_length 1 "${perr}invalid RESP length*at byte 0" ''
printf '*-5\r\n' | expect negative_array_length 1 "${perr}invalid RESP length*at byte 0" ''
printf '%%-1\r\n' | expect null_map 1 "${perr}invalid RESP length*at byte 0" ''
printf '$abc\r\nxyz\r\n' | expect non_numeric_length 1 "${perr}invalid RESP length*at byte 0" ''
printf ':12x\r\n' | expect bad_integer 1 "${perr}invalid RESP integer at byte 0" ''
printf ':99999999999999999999\r\n' | expect integer_overflow 1 "${perr}invalid RESP integer at byte 0" ''
printf ',1.2.3\r\n' | expect bad_double 1 "${perr}invalid RESP double at byte 0" ''
printf '#x\r\n' | expect bad_boolean 1 "${perr}invalid RESP boolean* at byte 0" ''
printf '_x\r\n' | expect bad_null 1 "${perr}invalid RESP null* at byte 0" ''
printf '(12a\r\n' | expect bad_big_number 1 "${perr}invalid RESP big number at byte 0" ''
printf '=3\r\ntxt\r\n' | expect bad_verbatim 1 "${perr}invalid RESP verbatim string* at byte 0" ''
printf '$3\r\nabcd\r\n' | expect bulk_without_crlf 1 "${perr}expected CRLF at byte 0" ''
printf '+OK\n' | expect bare_lf 1 "${perr}expected CRLF at byte 0" ''
printf '*2\r\n:1\r\n:x\r\n' | expect error_inside_array 1 "${perr}invalid RESP integer at byte 8" ''

# Truncated input: EOF inside a reply.
printf '$5\r\nhel' | expect truncated_bulk 1 "${perr}unexpected end of input at byte 7 (inside the reply that starts at byte 0)" ''
printf '$5\r\nhello' | expect truncated_bulk_crlf 1 "${perr}unexpected end of input*" ''
printf '+OK' | expect truncated_line 1 "${perr}unexpected end of input*" ''
printf '+OK\r\n*3\r\n:1\r\n:2\r\n' | expect truncated_array 1 "${perr}unexpected end of input at byte 17 (inside the reply that starts at byte 5)" 'OK'
printf '|1\r\n+a\r\n+b\r\n' | expect attribute_without_element 1 "${perr}unexpected end of input*" ''
printf '*' | expect lone_marker 1 "${perr}unexpected end of input*" ''

# Limits.
head -c 70000 /dev/zero | tr '\0' 'a' | sed '1s/^/+/' \
  | expect line_too_long 1 "${perr}RESP line longer than the configured limit at byte 0" ''
for _ in $(seq 200); do printf '*1\r\n'; done | printf '%s:1\r\n' "$(cat)" \
  | expect nesting_200 1 "${perr}aggregates nested deeper than the configured limit at byte 128" ''
for _ in $(seq 200); do printf '%%1\r\n+k\r\n'; done \
  | expect nesting_200_maps 1 "${perr}aggregates nested deeper than the configured limit at byte 256" ''
printf '$99999999999999\r\n' | expect giant_bulk 1 "${perr}bulk length above the configured limit at byte 0" ''
printf '*99999999999999\r\n' | expect giant_array 1 "${perr}aggregate size above the configured limit at byte 0" ''
printf '*4294967295\r\n*4294967295\r\n*4294967295\r\n:1\r\n' \
  | expect giant_arrays_truncated 1 "${perr}unexpected end of input*" ''
printf '$536870912\r\nabc' | expect giant_bulk_truncated 1 "${perr}unexpected end of input*" ''
printf '*9999999999999999999999\r\n' | expect length_overflow 1 "${perr}invalid RESP length*" ''

# Random bytes: whatever they are, the outcome is a clean exit 0 or 1.
for seed in $(seq 1 40); do
  checks=$((checks + 1))
  awk -v seed="$seed" 'BEGIN { srand(seed); n = int(rand() * 300);
    t = "+-:$*_#,(!=%~|>\r\n0123456789-";
    for (i = 0; i < n; i++) {
      if (rand() < 0.7) printf "%s", substr(t, int(rand() * length(t)) + 1, 1);
      else printf "%c", int(rand() * 256) } }' > "$work/random"
  timeout 20 "$uredis_cli" --decode < "$work/random" > "$work/out" 2> "$work/err"
  status=$?
  if [ $status -gt 1 ]; then fail "random_$seed: exit status $status"; continue; fi
  if [ $status -eq 1 ] && [[ $(cat "$work/err") != "$perr"* ]]; then fail "random_$seed: stderr"; fi
done

# Command line. (No arguments at all is not a usage error: it reads commands from stdin.)
usage_check() {
  local name=$1 want_status=$2
  shift 2
  checks=$((checks + 1))
  timeout 20 "$uredis_cli" "$@" < /dev/null > "$work/out" 2> "$work/err"
  local status=$?
  if [ $status -ne "$want_status" ]; then fail "$name: exit status $status, expected $want_status"; return; fi
  if [ "$want_status" -eq 2 ] && ! grep -q '^usage: uredis-cli' "$work/err"; then fail "$name: no usage on stderr"; fi
  if [ "$want_status" -eq 0 ] && ! grep -q '^usage: uredis-cli' "$work/out"; then fail "$name: no usage on stdout"; fi
}
usage_check unknown_option 2 --bogus
usage_check stray_argument 2 --decode extra
usage_check help 0 --help

echo "$checks checks, $failures failed"
[ $failures -eq 0 ]
