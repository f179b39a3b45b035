#include <algorithm>

#include <cinediff/io/npz.hpp>

#include "io_test_support.hpp"

using namespace cinediff;
using namespace cinediff::io;
using namespace cinediff::io::test;

namespace {

// Replaces every occurrence of `from` by `to` (same length) in a byte buffer.
std::size_t patch_all(std::vector<std::byte>& bytes, const std::string& from, const std::string& to) {
    BOOST_REQUIRE(from.size() == to.size());
    const auto needle = from_string(from);
    std::size_t count = 0;
    for (auto it = bytes.begin();
         (it = std::search(it, bytes.end(), needle.begin(), needle.end())) != bytes.end();) {
        std::transform(to.begin(), to.end(), it, [](char c) { return static_cast<std::byte>(c); });
        ++count;
    }
    return count;
}

void put_u32(std::vector<std::byte>& bytes, std::size_t at, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i) {
        bytes[at + i] = static_cast<std::byte>((v >> (8 * i)) & 0xffu);
    }
}

const std::vector<std::string> fixture_names{"frames", "labels", "mask",    "half",
                                             "scalar", "empty",  "fortran", "big"};

} // namespace

BOOST_AUTO_TEST_SUITE(io_npz)

BOOST_AUTO_TEST_CASE(reads_numpy_savez_and_savez_compressed) {
    for (const std::string file : {"stored.npz", "compressed.npz"}) {
        const auto records = read_npz(fixture(file));
        BOOST_REQUIRE(records.size() == fixture_names.size());
        for (std::size_t i = 0; i < records.size(); ++i) {
            BOOST_TEST(records[i].name == fixture_names[i]);
            check_expected(records[i], file + "/" + records[i].name);
        }
    }
    BOOST_TEST(read_npz(fixture("empty.npz")).empty());
}

BOOST_AUTO_TEST_CASE(round_trips_stored_and_compressed) {
    scratch_dir dir;
    std::vector<array_record> records;
    for (dtype type : all_dtypes()) {
        if (type != dtype::bf16) {
            records.push_back(make_record(std::string(dtype_name(type)) + ".x", type, {3, 2}));
        }
    }
    records.push_back(make_record("empty", dtype::f32, {0, 4}));
    records.push_back(make_record("scalar", dtype::i64, {}));
    for (bool compressed : {false, true}) {
        const auto bytes = serialize_npz(records, compressed);
        BOOST_TEST((parse_npz(bytes) == records));
        BOOST_TEST(to_hex(serialize_npz(records, compressed)) == to_hex(bytes)); // deterministic
        write_npz(dir / "a.npz", records, compressed);
        BOOST_TEST((read_npz(dir / "a.npz") == records));
    }
    write_npz(dir / "empty.npz", {});
    BOOST_TEST(read_npz(dir / "empty.npz").empty());
    BOOST_TEST(dir.entries() == 2u);
}

BOOST_AUTO_TEST_CASE(invalid_records_are_rejected_on_write) {
    scratch_dir dir;
    check_rejects(
        [&] {
            write_npz(dir / "a.npz", {make_record("a", dtype::f32, {1}), make_record("a", dtype::f32, {1})});
        },
        {"a.npz", "'a'", "twice"});
    check_rejects([&] { write_npz(dir / "a.npz", {make_record("", dtype::f32, {1})}); }, {"empty name"});
    check_rejects([&] { write_npz(dir / "a.npz", {make_record("w", dtype::bf16, {1})}); }, {"'w'", "BF16"});
    BOOST_TEST(dir.entries() == 0u);
}

BOOST_AUTO_TEST_CASE(malformed_archives_are_rejected) {
    const auto good = read_bytes(fixture("stored.npz"));
    for (std::size_t n :
         {std::size_t{0}, std::size_t{10}, std::size_t{100}, good.size() / 2, good.size() - 1}) {
        const std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
        BOOST_TEST_CONTEXT("cut at " << n) {
            check_rejects([&] { parse_npz(cut, "cut.npz"); }, {"cut.npz"});
        }
    }
    check_rejects([&] { parse_npz(from_string(std::string(64, 'x')), "m.npz"); },
                  {"m.npz", "not a zip archive"});

    // A flipped data byte in a stored member: the CRC check catches it.
    auto flipped = good;
    const auto frames = from_string("frames.npy");
    auto at = std::search(flipped.begin(), flipped.end(), frames.begin(), frames.end());
    BOOST_REQUIRE(at != flipped.end());
    at += 10 + 20 + 128 + 4; // name, numpy's zip64 extra field, npy header, into the data
    *at ^= std::byte{0x40};
    check_rejects([&] { parse_npz(flipped, "crc.npz"); }, {"crc.npz", "'frames.npy'"});

    // A member that is not a .npy file.
    auto other = good;
    BOOST_REQUIRE(patch_all(other, "labels.npy", "labels.txt") == 2u);
    check_rejects([&] { parse_npz(other, "o.npz"); }, {"'labels.txt'", "not a .npy member"});

    // The npy header inside a member claiming more data than the member holds.
    auto grown = good;
    BOOST_REQUIRE(patch_all(grown, "'shape': (2, 3)", "'shape': (9, 3)") >= 1u);
    check_rejects([&] { parse_npz(grown, "g.npz"); }, {"member 'frames.npy'", "truncated", "(9, 3)"});
}

BOOST_AUTO_TEST_CASE(absurd_declared_member_size_is_rejected) {
    // A deflated member whose directory entries claim 2 GB: impossible for its compressed size, so
    // refused before anything is allocated or decompressed.
    auto bytes = serialize_npz({make_record("a", dtype::f32, {64})}, true);
    const auto local = from_string("PK\x03\x04");
    const auto central = from_string("PK\x01\x02");
    const auto l = std::search(bytes.begin(), bytes.end(), local.begin(), local.end()) - bytes.begin();
    const auto c = std::search(bytes.begin(), bytes.end(), central.begin(), central.end()) - bytes.begin();
    put_u32(bytes, static_cast<std::size_t>(l) + 22, 0x7fffffffu);
    put_u32(bytes, static_cast<std::size_t>(c) + 24, 0x7fffffffu);
    check_rejects([&] { parse_npz(bytes, "bomb.npz"); }, {"bomb.npz", "'a.npy'", "2147483647"});
}

BOOST_AUTO_TEST_SUITE_END()
