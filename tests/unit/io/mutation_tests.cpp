#include <functional>
#include <random>
#include <typeinfo>

#include <cinediff/io/npy.hpp>
#include <cinediff/io/npz.hpp>
#include <cinediff/io/safetensors.hpp>

#include "io_test_support.hpp"

using namespace cinediff;
using namespace cinediff::io;
using namespace cinediff::io::test;

BOOST_AUTO_TEST_SUITE(io_mutations)

// Corrupted files either still parse or fail with file_error: never another exception, a crash or
// a huge allocation (the sanitizer build runs this too). Deterministic seed, so failures repeat.
BOOST_AUTO_TEST_CASE(corrupted_files_fail_cleanly) {
    const std::vector<std::pair<std::string, std::function<void(std::span<const std::byte>)>>> cases{
        {"f4_fortran.npy", [](auto b) { (void)parse_npy(b); }},
        {"u8_big.npy", [](auto b) { (void)parse_npy(b); }},
        {"stored.npz", [](auto b) { (void)parse_npz(b); }},
        {"compressed.npz", [](auto b) { (void)parse_npz(b); }},
        {"model.safetensors", [](auto b) { (void)parse_safetensors(b); }},
    };
    std::mt19937 rng(20240601);
    for (const auto& [name, parse] : cases) {
        const auto good = read_bytes(fixture(name));
        int rejected = 0;
        for (int trial = 0; trial < 300; ++trial) {
            auto bytes = good;
            const int edits = 1 + static_cast<int>(rng() % 4);
            for (int e = 0; e < edits; ++e) {
                // Bias towards the headers, where the interesting fields are.
                const std::size_t limit = rng() % 2 ? std::min<std::size_t>(bytes.size(), 256) : bytes.size();
                const std::size_t at = rng() % limit;
                switch (rng() % 3) {
                case 0:
                    bytes[at] = static_cast<std::byte>(rng());
                    break;
                case 1:
                    bytes[at] ^= static_cast<std::byte>(1u << (rng() % 8));
                    break;
                default:
                    bytes.resize(at);
                    break;
                }
                if (bytes.empty()) {
                    break;
                }
            }
            try {
                parse(bytes);
            } catch (const file_error&) {
                ++rejected;
            } catch (const std::exception& e) {
                BOOST_ERROR(name << " trial " << trial << ": unexpected " << typeid(e).name() << ": "
                                 << e.what());
            }
        }
        BOOST_TEST_MESSAGE(name << ": " << rejected << " of 300 mutations rejected");
        BOOST_TEST(rejected > 0);
    }
}

BOOST_AUTO_TEST_SUITE_END()
