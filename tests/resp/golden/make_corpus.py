#!/usr/bin/env python3
"""Writes the golden corpus of RESP replies (a maintainer tool; the tests only read its output).

  redis-cli/NAME.resp  one reply (after any push frames) that redis-cli 7.0 can print. NAME.txt is
                       what `redis-cli --no-raw --show-pushes yes` printed for it, captured with
                       `UPDATE_GOLDEN=1 meson test tools_decode_matches_redis_cli`.
  rules/NAME.resp      input redis-cli 7.0 cannot print (big numbers, bulk errors, attributes,
                       doubles it rejects) or would print only in part (several replies). NAME.txt
                       is written here, by hand, from the rules in include/uredis/resp/format.hpp.

Run from this directory: ./make_corpus.py
"""

import os

CRLF = b"\r\n"


def simple(t, text):
    return t + text + CRLF


def status(text): return simple(b"+", text)
def error(text): return simple(b"-", text)
def integer(v): return b":" + str(v).encode() + CRLF
def double(text): return simple(b",", text)
def big(text): return simple(b"(", text)
def boolean(v): return b"#t\r\n" if v else b"#f\r\n"
def null(): return b"_\r\n"


def bulk(data, t=b"$"):
    return t + str(len(data)).encode() + CRLF + data + CRLF


def verbatim(fmt, text): return bulk(fmt + b":" + text, b"=")
def bulk_error(text): return bulk(text, b"!")


def agg(t, items, pairs=False):
    # Attributes decorate the element after them: they are not counted.
    n = sum(1 for item in items if not item.startswith(b"|"))
    n = n // 2 if pairs else n
    return t + str(n).encode() + CRLF + b"".join(items)


def array(*items): return agg(b"*", items)
def set_(*items): return agg(b"~", items)
def push(*items): return agg(b">", items)
def map_(*items): return agg(b"%", items, pairs=True)
def attr(*items): return agg(b"|", items, pairs=True)


def b(s): return s.encode()


REDIS_CLI = {
    # simple strings: printed raw, up to a NUL
    "status_ok": status(b"OK"),
    "status_empty": status(b""),
    "status_raw_bytes": status(b"a\"b\\c\td\x01\x7f\xff'e"),
    "status_nul": status(b"ab\x00cd"),
    # errors
    "error_err": error(b"ERR unknown command 'FOO', with args beginning with: "),
    "error_wrongtype": error(b"WRONGTYPE Operation against a key holding the wrong kind of value"),
    "error_nul": error(b"ERR a\x00b"),
    "error_in_array": array(status(b"OK"), error(b"ERR nested"), integer(1)),
    # integers
    "integer_zero": integer(0),
    "integer_negative": integer(-1),
    "integer_max": integer(9223372036854775807),
    "integer_min": integer(-9223372036854775808),
    # bulk strings and their escaping
    "bulk_hello": bulk(b"hello world"),
    "bulk_empty": bulk(b""),
    "bulk_all_bytes": bulk(bytes(range(256))),
    "bulk_escapes": bulk(b"\\ \" \n \r \t \x07 \x08 \x00 \x1b \x7f \x80 \xff ' ~ space"),
    "bulk_crlf_inside": bulk(b"line1\r\nline2\r\n"),
    "bulk_each_byte": array(*[bulk(bytes([i])) for i in range(256)]),
    # nulls
    "null_bulk": b"$-1\r\n",
    "null_array": b"*-1\r\n",
    "null_resp3": null(),
    "nulls_in_array": array(b"$-1\r\n", b"*-1\r\n", null()),
    # empty aggregates
    "empty_array": array(),
    "empty_map": map_(),
    "empty_set": set_(),
    "empty_push": push() + status(b"OK"),
    "empty_aggregates_nested": array(array(), map_(), set_(), push(), array(array())),
    # flat arrays at the index-width boundaries
    "array_3": array(bulk(b"a"), integer(2), status(b"c")),
    "array_9": array(*[bulk(b(str(i))) for i in range(9)]),
    "array_10": array(*[bulk(b(str(i))) for i in range(10)]),
    "array_99": array(*[integer(i) for i in range(99)]),
    "array_100": array(*[integer(i) for i in range(100)]),
    "array_1000": array(*[bulk(b("v%d" % i)) for i in range(1000)]),
    # nesting
    "nested_2": array(array(integer(1), integer(2)), array(bulk(b"a"), bulk(b"b"))),
    "nested_single_chain": array(array(array(array(bulk(b"deep"))))),
    "nested_6_levels": array(integer(1), array(integer(2), array(integer(3), array(
        integer(4), array(integer(5), array(integer(6), integer(7))))))),
    "nested_wide": array(*[array(*[integer(j) for j in range(11)]) for i in range(12)]),
    "nested_mixed_widths": array(array(*[bulk(b"x")] * 10), bulk(b"y"),
                                 array(array(*[integer(i) for i in range(100)]), integer(1))),
    "nested_first_element_aggregate": array(array(array(integer(1), integer(2)), integer(3)),
                                            integer(4)),
    # maps
    "map_scalars": map_(bulk(b"name"), bulk(b"redis"), status(b"version"), integer(7),
                        bulk(b"ok"), boolean(True)),
    "map_array_values": map_(bulk(b"list"), array(integer(1), integer(2), integer(3)),
                             bulk(b"one"), array(integer(1)),
                             bulk(b"empty"), array(),
                             bulk(b"one-nested"), array(array(integer(1), integer(2)))),
    "map_map_values": map_(bulk(b"inner"), map_(bulk(b"a"), integer(1), bulk(b"b"), integer(2)),
                           bulk(b"single"), map_(bulk(b"k"), bulk(b"v")),
                           bulk(b"single-multi"), map_(bulk(b"k"), array(integer(1), integer(2))),
                           bulk(b"empty"), map_()),
    "map_aggregate_keys": map_(array(integer(1), integer(2)), bulk(b"v1"),
                               array(integer(3)), array(bulk(b"x"), bulk(b"y")),
                               map_(bulk(b"k"), bulk(b"v")), null(),
                               set_(), integer(0)),
    "map_12_pairs": map_(*[x for i in range(12) for x in (bulk(b("key:%d" % i)), integer(i))]),
    "map_escaped_keys": map_(bulk(b"a\nb"), bulk(b"\"q\""), bulk(b"\x00"), bulk(b"\xff")),
    "map_in_array": array(map_(bulk(b"a"), integer(1), bulk(b"b"), array(integer(2), integer(3))),
                          map_(bulk(b"c"), integer(4)), integer(5)),
    "map_in_array_in_map": map_(bulk(b"outer"), array(map_(bulk(b"k"), array(integer(1),
                                integer(2))), integer(3)), bulk(b"z"), null()),
    "map_hello_like": map_(bulk(b"server"), bulk(b"redis"), bulk(b"version"), bulk(b"7.0.15"),
                           bulk(b"proto"), integer(3), bulk(b"id"), integer(5),
                           bulk(b"mode"), bulk(b"standalone"), bulk(b"role"), bulk(b"master"),
                           bulk(b"modules"), array()),
    # sets
    "set_3": set_(bulk(b"a"), bulk(b"b"), bulk(b"c")),
    "set_12": set_(*[integer(i) for i in range(12)]),
    "set_nested": array(set_(integer(1), integer(2)), set_(array(integer(3), integer(4)))),
    "set_in_map": map_(bulk(b"members"), set_(bulk(b"x"), bulk(b"y")), bulk(b"one"), set_(integer(1))),
    # doubles: printed as sent
    "double_pi": double(b"3.14159"),
    "double_trailing_zero": double(b"3.140"),
    "double_negative": double(b"-1.5"),
    "double_negative_zero": double(b"-0"),
    "double_integer": double(b"10"),
    "double_exponent": double(b"1.5e10"),
    "double_exponent_upper": double(b"1.5E-3"),
    "double_inf": double(b"inf"),
    "double_minus_inf": double(b"-inf"),
    "double_in_array": array(double(b"0.1"), double(b"inf"), double(b"-inf")),
    # booleans
    "boolean_true": boolean(True),
    "boolean_false": boolean(False),
    "boolean_in_map": map_(bulk(b"t"), boolean(True), bulk(b"f"), boolean(False)),
    # verbatim strings: raw, without the format
    "verbatim_txt": verbatim(b"txt", b"Some string"),
    "verbatim_multiline": verbatim(b"txt", b"# Server\r\nredis_version:7.0.15\r\n"),
    "verbatim_mkd_nul": verbatim(b"mkd", b"a\x00b\"c"),
    "verbatim_empty": verbatim(b"txt", b""),
    "verbatim_in_array": array(verbatim(b"txt", b"one"), verbatim(b"txt", b"two\nlines")),
    # pushes: printed by redis-cli's push handler before the reply they precede
    "push_invalidate": push(bulk(b"invalidate"), array(bulk(b"k1"), bulk(b"k2"))) + status(b"OK"),
    "push_invalidate_no_keys": push(bulk(b"invalidate"), array()) + status(b"OK"),
    "push_invalidate_raw_keys": push(bulk(b"invalidate"), array(bulk(b"a'b\"c\nd"),
                                     bulk(b"x\x00y"))) + integer(1),
    "push_invalidate_null": push(bulk(b"invalidate"), null()) + status(b"OK"),
    "push_invalidate_prefix": push(bulk(b"invalidated"), array(bulk(b"k"))) + status(b"OK"),
    "push_message": push(bulk(b"message"), bulk(b"chan"), bulk(b"hello")) + bulk(b"after"),
    "push_two": push(bulk(b"pmessage"), bulk(b"c*"), bulk(b"chan"), bulk(b"hi")) +
                push(bulk(b"invalidate"), array(bulk(b"k"))) + array(integer(1), integer(2)),
    "push_nested_in_array": array(push(bulk(b"message"), bulk(b"c"), bulk(b"m")), integer(1)),
    "push_12": push(*[integer(i) for i in range(12)]) + status(b"OK"),
}

RULES = {
    # big numbers: "(big number) N", the text as sent
    "big_number": (big(b"3492890328409238509324850943850943825024385"),
                   b"(big number) 3492890328409238509324850943850943825024385\n"),
    "big_number_negative": (big(b"-3492890328409238509324850943850943825024385"),
                            b"(big number) -3492890328409238509324850943850943825024385\n"),
    "big_number_in_array": (array(big(b"1"), big(b"+12")),
                            b"1) (big number) 1\n2) (big number) +12\n"),
    # bulk errors: like simple errors, up to a NUL
    "bulk_error": (bulk_error(b"SYNTAX invalid syntax"), b"(error) SYNTAX invalid syntax\n"),
    "bulk_error_nul_crlf": (bulk_error(b"ERR a\r\nb\x00c"), b"(error) ERR a\r\nb\n"),
    "bulk_error_in_map": (map_(bulk(b"e"), bulk_error(b"ERR x")), b"1# \"e\" => (error) ERR x\n"),
    # attributes: skipped, the element they decorate printed
    "attribute_top": (attr(bulk(b"key-popularity"), array(bulk(b"a"), double(b"0.1923"))) +
                      array(integer(2039123), integer(9543892)),
                      b"1) (integer) 2039123\n2) (integer) 9543892\n"),
    "attribute_on_element": (array(integer(1), attr(bulk(b"ttl"), integer(100)), bulk(b"v"),
                                   attr(), integer(3)),
                             b"1) (integer) 1\n2) \"v\"\n3) (integer) 3\n"),
    "attribute_in_map": (map_(attr(bulk(b"a"), bulk(b"b")), bulk(b"k"),
                              attr(bulk(b"c"), attr(bulk(b"d"), null()), bulk(b"e")),
                              array(integer(1), integer(2))),
                         b"1# \"k\" => \n   1) (integer) 1\n   2) (integer) 2\n"),
    "attribute_twice": (attr(bulk(b"a"), integer(1)) + attr(bulk(b"b"), integer(2)) +
                        status(b"OK"), b"OK\n"),
    # doubles redis-cli 7.0 rejects: still printed as sent
    "double_nan": (double(b"nan"), b"(double) nan\n"),
    "double_plus_inf": (double(b"+inf"), b"(double) +inf\n"),
    # integers redis-cli 7.0 rejects: printed as the value they denote
    "integer_plus_sign": (b":+5\r\n", b"(integer) 5\n"),
    "integer_leading_zeros": (b":007\r\n", b"(integer) 7\n"),
    # invalidation pushes whose keys redis-cli would assert on: the general format
    "push_invalidate_non_bulk_key": (push(bulk(b"invalidate"), array(status(b"k"), integer(1))),
                                     b"1) \"invalidate\"\n2) 1) k\n   2) (integer) 1\n"),
    # several replies: each printed in turn (redis-cli reads one reply per command)
    "several_replies": (status(b"OK") + integer(1) + b"$-1\r\n" + array(bulk(b"a")) + map_(),
                        b"OK\n(integer) 1\n(nil)\n1) \"a\"\n(empty hash)\n"),
    # a verbatim string with a format of three odd bytes
    "verbatim_odd_format": (verbatim(b"\x00\r\n", b"x"), b"x\n"),
}


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for sub in ("redis-cli", "rules"):
        os.makedirs(os.path.join(here, sub), exist_ok=True)
    for name, data in REDIS_CLI.items():
        write(os.path.join(here, "redis-cli", name + ".resp"), data)
    for name, (data, expected) in RULES.items():
        write(os.path.join(here, "rules", name + ".resp"), data)
        write(os.path.join(here, "rules", name + ".txt"), expected)


if __name__ == "__main__":
    main()
