#include <algorithm>

#include <cinediff/io/npz.hpp>
#include <cinediff/io/safetensors.hpp>
#include <cinediff/io/tensor_conversion.hpp>
#include <cinediff/io/tensor_file.hpp>

#include "io_test_support.hpp"

using namespace cinediff;
using namespace cinediff::io;
using namespace cinediff::io::test;

BOOST_AUTO_TEST_SUITE(io_tensor_file)

BOOST_AUTO_TEST_CASE(detects_formats_by_extension_then_content) {
    scratch_dir dir;
    BOOST_TEST((detect_format(fixture("f4_c.npy")) == tensor_format::npy));
    BOOST_TEST((detect_format("x.NPZ") == tensor_format::npz)); // by name, without opening
    for (const auto& [name, format] :
         {std::pair{"f4_c.npy", tensor_format::npy}, std::pair{"stored.npz", tensor_format::npz},
          std::pair{"model.safetensors", tensor_format::safetensors}}) {
        std::filesystem::copy_file(fixture(name), dir / (std::string(name) + ".bin"));
        BOOST_TEST((detect_format(dir / (std::string(name) + ".bin")) == format));
    }
    write_bytes(dir / "junk.bin", from_string("hello world"));
    check_rejects([&] { detect_format(dir / "junk.bin"); }, {"junk.bin", "unknown format"});
}

BOOST_AUTO_TEST_CASE(converts_between_formats_keeping_dtypes) {
    scratch_dir dir;
    const tensor_file npz = read_tensor_file(fixture("stored.npz"));
    write_tensor_file(dir / "a.safetensors", npz);
    write_tensor_file(dir / "b.npz", read_tensor_file(dir / "a.safetensors"), true);
    tensor_file back = read_tensor_file(dir / "b.npz");
    // safetensors reorders by dtype; compare by name.
    auto by_name = [](const array_record& a, const array_record& b) { return a.name < b.name; };
    auto want = npz.records;
    std::sort(want.begin(), want.end(), by_name);
    std::sort(back.records.begin(), back.records.end(), by_name);
    BOOST_TEST((back.records == want));

    const tensor_file st = read_tensor_file(fixture("model.safetensors"));
    check_rejects([&] { write_tensor_file(dir / "c.npz", st); }, {"c.npz", "'emb.bf16'", "BF16"});
    check_rejects([&] { write_tensor_file(dir / "c.npy", npz); }, {"c.npy", "exactly one", "8"});
    check_rejects([&] { write_tensor_file(dir / "c.txt", npz); }, {"c.txt", "unknown output format"});
    write_tensor_file(dir / "one.npy", read_tensor_file(fixture("no_metadata.safetensors")));
    BOOST_TEST(dir.entries() == 3u);
}

BOOST_AUTO_TEST_CASE(tensor_conversion_checks_dtype_and_rank) {
    Tensor<float, 2> t({2, 3}, {1, 2, 3, 4, 5, 6});
    const array_record record = from_tensor("t", t);
    BOOST_TEST((record.type == dtype::f32));
    BOOST_TEST(record.shape == (std::vector<index_t>{2, 3}), boost::test_tools::per_element());
    BOOST_TEST(record.bytes.size() == 24u);
    const Tensor<float, 2> back = to_tensor<float, 2>(record);
    BOOST_TEST(back.shape() == t.shape(), boost::test_tools::per_element());
    BOOST_TEST(back.span() == t.span(), boost::test_tools::per_element());
    BOOST_CHECK_THROW((to_tensor<double, 2>(record)), std::invalid_argument);
    BOOST_CHECK_THROW((to_tensor<float, 3>(record)), shape_error);

    // Through a file, for a storage type and a bool mask.
    scratch_dir dir;
    Tensor<bfloat16, 1> w({3});
    w.data()[1] = bfloat16(2.5f);
    Tensor<bool, 2> mask({2, 2});
    mask.data()[3] = true;
    write_safetensors(dir / "m.safetensors", {from_tensor("w", w), from_tensor("mask", mask)});
    const auto file = read_safetensors(dir / "m.safetensors");
    BOOST_REQUIRE(file.records.size() == 2u);
    const auto w2 = to_tensor<bfloat16, 1>(file.records[0]);
    BOOST_TEST(static_cast<float>(w2.data()[1]) == 2.5f);
    const auto mask2 = to_tensor<bool, 2>(file.records[1]);
    BOOST_TEST(mask2.data()[3]);
    BOOST_TEST(!mask2.data()[0]);
}

BOOST_AUTO_TEST_SUITE_END()
