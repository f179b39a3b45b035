#include <cstring>

#include <cinediff/io/npy.hpp>

#include "io_test_support.hpp"

using namespace cinediff;
using namespace cinediff::io;
using namespace cinediff::io::test;

BOOST_AUTO_TEST_SUITE(io_npy)

BOOST_AUTO_TEST_CASE(reads_every_numpy_fixture) {
    // C order, Fortran order and big-endian files of every dtype, plus 0-d and empty arrays: all come
    // back as C-order little-endian bytes equal to what NumPy reported.
    int checked = 0;
    for (const auto& [key, value] : expected().items()) {
        if (key.size() > 4 && key.substr(key.size() - 4) == ".npy" && key.find('/') == std::string::npos) {
            const array_record record = read_npy(fixture(key));
            check_expected(record, key);
            BOOST_TEST(record.name == key.substr(0, key.size() - 4));
            ++checked;
        }
    }
    BOOST_TEST(checked >= 40);
}

BOOST_AUTO_TEST_CASE(fixture_values_decode) {
    // Spot checks through the element types, so a byte-level mistake in both script and reader
    // cannot cancel out.
    const array_record scalar = read_npy(fixture("scalar_f8.npy"));
    BOOST_TEST(scalar.shape.empty());
    double v = 0;
    std::memcpy(&v, scalar.bytes.data(), sizeof v);
    BOOST_TEST(v == 3.5);

    const array_record big = read_npy(fixture("i4_big_fortran.npy"));
    BOOST_TEST(big.shape == (std::vector<index_t>{3, 5}), boost::test_tools::per_element());
    std::int32_t first = 0;
    std::int32_t last = 0;
    std::memcpy(&first, big.bytes.data(), 4);
    std::memcpy(&last, big.bytes.data() + big.bytes.size() - 4, 4);
    BOOST_TEST(first == std::numeric_limits<std::int32_t>::min());
    BOOST_TEST(last == std::numeric_limits<std::int32_t>::max());

    const array_record half = read_npy(fixture("f2_specials.npy"));
    std::uint16_t bits = 0;
    std::memcpy(&bits, half.bytes.data() + 5 * 2, 2);
    BOOST_TEST(static_cast<float>(float16::from_bits(bits)) == 65504.0f);
}

BOOST_AUTO_TEST_CASE(writes_byte_identical_to_numpy) {
    // C-order little-endian fixtures re-serialise to exactly np.save's bytes (header padding,
    // growth space and version choice included).
    for (const char* name : {"f4_c.npy", "f2_c.npy", "i8_c.npy", "u1_c.npy", "b1_c.npy", "scalar_f8.npy",
                             "empty_f4.npy", "empty_1d_i8.npy", "vector_u2.npy"}) {
        BOOST_TEST_CONTEXT(name) {
            const auto original = read_bytes(fixture(name));
            BOOST_TEST(to_hex(serialize_npy(parse_npy(original))) == to_hex(original));
        }
    }
}

BOOST_AUTO_TEST_CASE(round_trips_every_numpy_dtype) {
    scratch_dir dir;
    for (dtype type : all_dtypes()) {
        if (type == dtype::bf16) {
            continue;
        }
        for (const auto& shape : {std::vector<index_t>{}, std::vector<index_t>{0}, std::vector<index_t>{5},
                                  std::vector<index_t>{2, 3, 4}, std::vector<index_t>{3, 0, 2}}) {
            const array_record record = make_record("a", type, shape);
            BOOST_TEST_CONTEXT(dtype_name(type) << " " << shape_to_string(shape)) {
                // In memory there is no file name, so no array name.
                array_record unnamed = record;
                unnamed.name.clear();
                BOOST_TEST((parse_npy(serialize_npy(record)) == unnamed));
                write_npy(dir / "a.npy", record);
                BOOST_TEST((read_npy(dir / "a.npy") == record));
            }
        }
    }
    BOOST_TEST(dir.entries() == 1u); // no temporary files left behind
}

BOOST_AUTO_TEST_CASE(long_header_uses_version_2) {
    const array_record record = make_record("", dtype::u8, std::vector<index_t>(32, 1));
    const auto bytes = serialize_npy(record);
    BOOST_TEST(std::to_integer<int>(bytes[6]) == 1);
    BOOST_TEST((parse_npy(bytes) == record));
}

BOOST_AUTO_TEST_CASE(bfloat16_is_rejected_on_write) {
    scratch_dir dir;
    check_rejects([&] { write_npy(dir / "x.npy", make_record("w", dtype::bf16, {2})); },
                  {"x.npy", "'w'", "BF16"});
    BOOST_TEST(dir.entries() == 0u);
}

BOOST_AUTO_TEST_CASE(inconsistent_record_is_rejected_on_write) {
    array_record record = make_record("w", dtype::f32, {2, 2});
    record.bytes.pop_back();
    check_rejects([&] { serialize_npy(record, "out.npy"); }, {"out.npy", "'w'", "15 bytes", "(2, 2)", "16"});
}

namespace {

std::vector<std::byte> header_file(const std::string& dict, std::size_t data_bytes) {
    std::string text = dict;
    while ((10 + text.size() + 1) % 64 != 0) {
        text += ' ';
    }
    text += '\n';
    std::string out = "\x93NUMPY";
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(text.size() & 0xff);
    out += static_cast<char>(text.size() >> 8);
    out += text;
    out.append(data_bytes, '\x01');
    return from_string(out);
}

} // namespace

BOOST_AUTO_TEST_CASE(malformed_files_are_rejected) {
    const auto good = read_bytes(fixture("f4_c.npy"));
    // Truncated anywhere: in the magic, the length, the header or the data.
    for (std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{9}, std::size_t{40}, std::size_t{128},
                          good.size() - 1}) {
        const std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
        check_rejects([&] { parse_npy(cut, "cut.npy"); }, {"cut.npy", "truncated"});
    }
    auto bad_magic = good;
    bad_magic[1] = std::byte{'X'};
    check_rejects([&] { parse_npy(bad_magic, "m.npy"); }, {"m.npy", "bad magic"});

    auto version = good;
    version[6] = std::byte{9};
    check_rejects([&] { parse_npy(version, "v.npy"); }, {"unsupported .npy format version 9.0"});

    auto trailing = good;
    trailing.push_back(std::byte{0});
    check_rejects([&] { parse_npy(trailing, "t.npy"); }, {"1 unexpected bytes"});

    // A header length beyond the file.
    auto long_header = good;
    long_header[8] = std::byte{0xff};
    long_header[9] = std::byte{0xff};
    check_rejects([&] { parse_npy(long_header, "h.npy"); }, {"header length 65535"});

    check_rejects(
        [&] { parse_npy(header_file("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8)); },
        {"unsupported dtype '<c8'"});
    check_rejects(
        [&] {
            parse_npy(header_file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4));
        },
        {"structured"});
    check_rejects([&] { parse_npy(header_file("{'descr': '<f4', 'shape': (1,), }", 4)); },
                  {"missing key 'fortran_order'"});
    check_rejects(
        [&] { parse_npy(header_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4)); },
        {"unexpected key 'x'"});
    check_rejects(
        [&] { parse_npy(header_file("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", 4)); },
        {"True or False"});
    check_rejects(
        [&] { parse_npy(header_file("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4)); },
        {"non-negative"});
    check_rejects(
        [&] { parse_npy(header_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), ", 4)); },
        {"npy header"});
    check_rejects(
        [&] {
            parse_npy(
                header_file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4));
        },
        {"appears twice"});
    check_rejects(
        [&] {
            parse_npy(
                header_file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 4));
        },
        {"too large"});
}

BOOST_AUTO_TEST_CASE(absurd_declared_sizes_fail_before_allocating) {
    // Shapes whose byte size exceeds the file (or any address space) are refused from the header
    // alone; the reader never allocates what the header claims.
    check_rejects(
        [&] {
            parse_npy(header_file(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", 8));
        },
        {"truncated", "(100000, 100000, 100000)", "8000000000000000"});
    check_rejects(
        [&] {
            parse_npy(header_file(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 8));
        },
        {"too large to address"});
    // Python 2 "L" integers are still read.
    const auto py2 =
        parse_npy(header_file("{'descr': '<i2', 'fortran_order': False, 'shape': (2L, 1L), }", 4));
    BOOST_TEST(py2.shape == (std::vector<index_t>{2, 1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(missing_file_and_folder_are_rejected) {
    scratch_dir dir;
    check_rejects([&] { read_npy(dir / "none.npy"); }, {"none.npy", "cannot open"});
    check_rejects([&] { read_npy(dir.path()); }, {"not a regular file"});
}

BOOST_AUTO_TEST_CASE(failed_write_keeps_the_old_file) {
    scratch_dir dir;
    const array_record record = make_record("a", dtype::f32, {3});
    write_npy(dir / "a.npy", record);
    check_rejects([&] { write_npy(dir / "a.npy", make_record("a", dtype::bf16, {3})); }, {"BF16"});
    BOOST_TEST((read_npy(dir / "a.npy") == record));
    check_rejects([&] { write_npy(dir / "missing" / "a.npy", record); }, {"temporary file"});
    BOOST_TEST(dir.entries() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
