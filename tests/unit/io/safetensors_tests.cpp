#include <cstring>

#include <cinediff/io/safetensors.hpp>

#include "io_test_support.hpp"

using namespace cinediff;
using namespace cinediff::io;
using namespace cinediff::io::test;

namespace {

// A safetensors file from a header text and a data buffer of `data_bytes` bytes.
std::vector<std::byte> make_file(const std::string& header, std::size_t data_bytes) {
    std::string out;
    for (std::size_t i = 0; i < 8; ++i) {
        out += static_cast<char>((header.size() >> (8 * i)) & 0xffu);
    }
    out += header;
    out.append(data_bytes, '\0');
    return from_string(out);
}

std::vector<std::byte> f32_bytes(std::initializer_list<float> values) {
    std::vector<std::byte> out(values.size() * 4);
    std::memcpy(out.data(), std::data(values), out.size());
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(io_safetensors)

BOOST_AUTO_TEST_CASE(reads_the_reference_layout) {
    const safetensors_file file = read_safetensors(fixture("model.safetensors"));
    BOOST_TEST(file.records.size() == 16u);
    for (const array_record& record : file.records) {
        check_expected(record, "model.safetensors/" + record.name);
    }
    // File order is the reference writer's: widest dtype first, then name.
    BOOST_TEST(file.records.front().name == "u64");
    BOOST_TEST(file.records.back().name == "mask");
    BOOST_TEST(file.metadata.size() == 2u);
    BOOST_TEST(file.metadata.at("format") == "pt");
    BOOST_TEST(file.metadata.at("note") == "cinediff fixture");

    BOOST_TEST(read_safetensors(fixture("empty.safetensors")).records.empty());
    const auto legacy = read_safetensors(fixture("name_ordered.safetensors"));
    BOOST_REQUIRE(legacy.records.size() == 2u);
    for (const array_record& record : legacy.records) {
        check_expected(record, "name_ordered.safetensors/" + record.name);
    }
}

BOOST_AUTO_TEST_CASE(writes_byte_identical_to_the_reference) {
    // The fixture's writer follows the reference's layout; ours must reproduce it exactly.
    for (const char* name : {"model.safetensors", "no_metadata.safetensors", "empty.safetensors"}) {
        BOOST_TEST_CONTEXT(name) {
            const auto original = read_bytes(fixture(name));
            const auto file = parse_safetensors(original);
            BOOST_TEST(to_hex(serialize_safetensors(file.records, file.metadata)) == to_hex(original));
        }
    }
    // The reference implementation's own test vectors (safetensors/src/tensor.rs).
    array_record attn{"attn.0", dtype::f32, {1, 2, 3}, f32_bytes({0, 1, 2, 3, 4, 5})};
    const auto want = make_file(R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})", 0);
    auto expected_bytes = want;
    expected_bytes.insert(expected_bytes.end(), attn.bytes.begin(), attn.bytes.end());
    BOOST_TEST(to_hex(serialize_safetensors({attn})) == to_hex(expected_bytes));
    BOOST_TEST(to_hex(serialize_safetensors({})) == to_hex(make_file("{}      ", 0)));
    BOOST_TEST(to_hex(serialize_safetensors({}, {{"framework", "pt"}})) ==
               to_hex(make_file(R"({"__metadata__":{"framework":"pt"}}     )", 0)));
}

BOOST_AUTO_TEST_CASE(round_trips_every_dtype) {
    scratch_dir dir;
    std::vector<array_record> records;
    for (dtype type : all_dtypes()) {
        records.push_back(make_record(std::string("t.") + std::string(dtype_name(type)), type, {2, 3}));
    }
    records.push_back(make_record("scalar", dtype::f64, {}));
    records.push_back(make_record("empty", dtype::i32, {0, 7}));
    records.push_back(make_record("empty2", dtype::u8, {0}));
    const std::map<std::string, std::string> metadata{{"format", "pt"}, {"caf\xc3\xa9", "\"quoted\"\n"}};
    write_safetensors(dir / "a.safetensors", records, metadata);
    const auto file = read_safetensors(dir / "a.safetensors");
    BOOST_TEST(file.metadata == metadata);
    BOOST_REQUIRE(file.records.size() == records.size());
    for (const array_record& want : records) {
        const auto it = std::find_if(file.records.begin(), file.records.end(),
                                     [&](const array_record& r) { return r.name == want.name; });
        BOOST_REQUIRE(it != file.records.end());
        BOOST_TEST((*it == want));
    }
    // Data starts 8-byte aligned, as the reference guarantees.
    const auto bytes = read_bytes(dir / "a.safetensors");
    std::uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    BOOST_TEST(n % 8 == 0u);
    BOOST_TEST(dir.entries() == 1u);
}

BOOST_AUTO_TEST_CASE(invalid_records_are_rejected_on_write) {
    scratch_dir dir;
    const auto a = make_record("a", dtype::f32, {2});
    check_rejects(
        [&] {
            write_safetensors(dir / "x.safetensors", {a, a});
        },
        {"x.safetensors", "'a'", "twice"});
    check_rejects(
        [&] { write_safetensors(dir / "x.safetensors", {make_record("__metadata__", dtype::f32, {1})}); },
        {"reserved"});
    check_rejects(
        [&] { write_safetensors(dir / "x.safetensors", {make_record("bad\xff", dtype::f32, {1})}); },
        {"UTF-8"});
    BOOST_TEST(dir.entries() == 0u);
}

BOOST_AUTO_TEST_CASE(malformed_files_are_rejected) {
    const auto good = read_bytes(fixture("model.safetensors"));
    for (std::size_t n :
         {std::size_t{0}, std::size_t{7}, std::size_t{8}, std::size_t{100}, good.size() - 1}) {
        const std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
        BOOST_TEST_CONTEXT("cut at " << n) {
            check_rejects([&] { parse_safetensors(cut, "cut.safetensors"); }, {"cut.safetensors"});
        }
    }
    const std::string entry = R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";
    BOOST_TEST(parse_safetensors(make_file("{" + entry + "}", 16)).records.size() == 1u);

    // Absurd header lengths: over the reference's 100 MB limit, and beyond the file.
    auto huge = make_file("{}", 0);
    huge[7] = std::byte{0x7f};
    check_rejects([&] { parse_safetensors(huge, "h.safetensors"); },
                  {"h.safetensors", "header length", "limit"});
    auto beyond = make_file("{}", 0);
    beyond[0] = std::byte{200};
    check_rejects([&] { parse_safetensors(beyond); }, {"truncated", "header length 200"});

    check_rejects([&] { parse_safetensors(make_file("PK\x03\x04 not json", 0)); }, {"bad magic"});
    check_rejects([&] { parse_safetensors(make_file("{\"w\": {", 0)); }, {"bad JSON"});
    check_rejects([&] { parse_safetensors(make_file("{" + entry + "," + entry + "}", 16)); },
                  {"'w'", "twice"});
    check_rejects([&] { parse_safetensors(make_file("{" + entry + "}", 20)); },
                  {"cover 16 bytes", "holds 20"});
    check_rejects(
        [&] {
            parse_safetensors(make_file(R"({"w":{"dtype":"F32","shape":[3,3],"data_offsets":[0,16]}})", 16));
        },
        {"tensor 'w': data_offsets [0, 16] do not match shape (3, 3) of F32 (36 bytes)"});
    check_rejects(
        [&] {
            parse_safetensors(make_file(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}})", 16));
        },
        {"'w'", "[8, 24]", "outside the 16-byte data buffer"});
    check_rejects(
        [&] {
            parse_safetensors(make_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 16));
        },
        {"end before they begin"});
    check_rejects(
        [&] {
            parse_safetensors(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                        12));
        },
        {"'b'", "overlap tensor 'a'"});
    check_rejects(
        [&] {
            parse_safetensors(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                                        12));
        },
        {"'b'", "gap of 4 bytes"});
    check_rejects(
        [&] {
            parse_safetensors(make_file(R"({"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", 1));
        },
        {"'w'", "unsupported dtype \"F8_E4M3\""});
    check_rejects(
        [&] {
            parse_safetensors(make_file(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4));
        },
        {"'w'", "non-negative integer"});
    check_rejects([&] { parse_safetensors(make_file(R"({"w":{"dtype":"F32","shape":[1]}})", 4)); },
                  {"'w'", "missing field 'data_offsets'"});
    check_rejects([&] { parse_safetensors(make_file(R"({"__metadata__":{"epoch":3}})", 0)); },
                  {"'epoch'", "must be a string"});
    check_rejects([&] { parse_safetensors(make_file("[1, 2]", 0)); }, {"bad"});
}

BOOST_AUTO_TEST_CASE(absurd_shapes_fail_before_allocating) {
    check_rejects(
        [&] {
            parse_safetensors(make_file(
                R"({"w":{"dtype":"F64","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})",
                8));
        },
        {"'w'", "too large to address"});
    check_rejects(
        [&] {
            parse_safetensors(
                make_file(R"({"w":{"dtype":"F64","shape":[1000000000],"data_offsets":[0,8000000000]}})", 8));
        },
        {"'w'", "outside the 8-byte data buffer"});
}

BOOST_AUTO_TEST_SUITE_END()
