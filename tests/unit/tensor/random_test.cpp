// Philox-4x32-10 and the distributions of cinediff/tensor/random.hpp: known answers, the documented
// index -> counter mapping, thread-count and chunking invariance, streams, state round trips and
// statistical sanity.

#include <boost/test/unit_test.hpp>

#include <cinediff/tensor/random.hpp>
#include <cinediff/tensor/random_tensor.hpp>
#include <cinediff/tensor/tensor.hpp>

// Random123 is the reference implementation; only the test includes it.
#include <Random123/philox.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <tuple>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace {

using namespace cinediff;

// splitmix64: an independent source of test counters and keys.
std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

template <class T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

template <class T>
double mean_of(const std::vector<T>& v) {
    double s = 0;
    for (T x : v) {
        s += static_cast<double>(x);
    }
    return s / static_cast<double>(v.size());
}

template <class T>
double variance_of(const std::vector<T>& v, double mean) {
    double s = 0;
    for (T x : v) {
        const double d = static_cast<double>(x) - mean;
        s += d * d;
    }
    return s / static_cast<double>(v.size() - 1);
}

double chi_square(const std::vector<std::int64_t>& counts, double expected) {
    double chi2 = 0;
    for (std::int64_t c : counts) {
        const double d = static_cast<double>(c) - expected;
        chi2 += d * d / expected;
    }
    return chi2;
}

// Runs f with the given OpenMP thread count (a no-op without OpenMP) and restores the old one.
template <class F>
auto with_threads(int threads, F&& f) {
#if defined(_OPENMP)
    const int old = omp_get_max_threads();
    omp_set_num_threads(threads);
    auto r = f();
    omp_set_num_threads(old);
    return r;
#else
    (void)threads;
    return f();
#endif
}

BOOST_AUTO_TEST_SUITE(random)

// ---- Philox-4x32-10 -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(philox_known_answers) {
    // Random123's kat_vectors for philox4x32_10 (also checked against r123 below).
    struct kat {
        philox4x32_ctr ctr;
        philox4x32_key key;
        philox4x32_ctr expected;
    };
    const kat kats[] = {
        {{{0, 0, 0, 0}}, {{0, 0}}, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
        {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
         {{0xffffffffu, 0xffffffffu}},
         {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
        {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
         {{0xa4093822u, 0x299f31d0u}},
         {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
    };
    for (const kat& k : kats) {
        const philox4x32_ctr got = philox4x32_10(k.ctr, k.key);
        for (int w = 0; w < 4; ++w) {
            BOOST_TEST(got.v[w] == k.expected.v[w]);
        }
        // And Random123 itself agrees with the published values, so the table has no typo.
        r123::Philox4x32_R<10> ref;
        const auto r = ref({{k.ctr.v[0], k.ctr.v[1], k.ctr.v[2], k.ctr.v[3]}}, {{k.key.v[0], k.key.v[1]}});
        for (int w = 0; w < 4; ++w) {
            BOOST_TEST(r[w] == k.expected.v[w]);
        }
    }
    // Usable in constant expressions, hence in kernels and static tables.
    static_assert(philox4x32_10({{0, 0, 0, 0}}, {{0, 0}}) ==
                  philox4x32_ctr{{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}});
}

BOOST_AUTO_TEST_CASE(philox_matches_random123) {
    r123::Philox4x32_R<10> ref;
    std::uint64_t sm = 12345;
    int mismatches = 0;
    for (int n = 0; n < 20000; ++n) {
        const std::uint64_t a = splitmix64(sm);
        const std::uint64_t b = splitmix64(sm);
        const std::uint64_t c = splitmix64(sm);
        const philox4x32_ctr ctr{{static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(a >> 32),
                                  static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(b >> 32)}};
        const philox4x32_key key{{static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(c >> 32)}};
        const philox4x32_ctr got = philox4x32_10(ctr, key);
        const auto r = ref({{ctr.v[0], ctr.v[1], ctr.v[2], ctr.v[3]}}, {{key.v[0], key.v[1]}});
        for (int w = 0; w < 4; ++w) {
            mismatches += got.v[w] != r[w] ? 1 : 0;
        }
    }
    BOOST_TEST(mismatches == 0);
}

// ---- The documented index -> counter mapping -----------------------------------------------------

BOOST_AUTO_TEST_CASE(key_and_counter_layout) {
    BOOST_TEST((philox_key(0x0123456789abcdefull) == philox4x32_key{{0x89abcdefu, 0x01234567u}}));
    BOOST_TEST((philox_counter(0x1111111122222222ull, 0x3333333344444444ull) ==
                philox4x32_ctr{{0x22222222u, 0x11111111u, 0x44444444u, 0x33333333u}}));
    // Seed 0, stream 0, offset 0: the first uniform float is the first KAT word's top 24 bits.
    const philox_state zero{};
    BOOST_TEST(uniform_at<float>(zero, 0) == static_cast<float>(0x6627e8d5u >> 8) * 0x1.0p-24f);
    BOOST_TEST(uniform_at<float>(zero, 3) == static_cast<float>(0x9b00dbd8u >> 8) * 0x1.0p-24f);
    BOOST_TEST(uniform_at<double>(zero, 1) ==
               static_cast<double>(((std::uint64_t{0x9b00dbd8u} << 32) | 0xbc57ac4cu) >> 11) * 0x1.0p-53);
}

BOOST_AUTO_TEST_CASE(element_functions_follow_the_mapping) {
    const philox_state s{0xdeadbeefcafef00dull, stream_id("noise/clip", 7), 1000};
    const philox4x32_key key{{0xcafef00du, 0xdeadbeefu}};
    for (std::uint64_t i = 0; i < 64; ++i) {
        // uniform<float>: block offset + i / 4, lane i % 4.
        const philox4x32_ctr wf = philox4x32_10(philox_counter(s.offset + i / 4, s.stream), key);
        BOOST_TEST(uniform_at<float>(s, i) == static_cast<float>(wf.v[i % 4] >> 8) * 0x1.0p-24f);
        BOOST_TEST(bernoulli_at<int>(s, i, 0.25) == (wf.v[i % 4] < 0x40000000u ? 1 : 0));
        // uniform<double>: block offset + i / 2, words (2l, 2l + 1) as (lo, hi).
        const philox4x32_ctr wd = philox4x32_10(philox_counter(s.offset + i / 2, s.stream), key);
        const std::uint64_t l = i % 2;
        const std::uint64_t x = (std::uint64_t{wd.v[2 * l + 1]} << 32) | wd.v[2 * l];
        BOOST_TEST(uniform_at<double>(s, i) == static_cast<double>(x >> 11) * 0x1.0p-53);
        // normal<float>: Box-Muller on pair (i % 4) / 2 of block offset + i / 4.
        const std::uint64_t p = (i % 4) / 2;
        const float u1 = static_cast<float>(wf.v[2 * p]) * 0x1.0p-32f + 0x1.0p-33f;
        const float u2 = static_cast<float>(wf.v[2 * p + 1] >> 8) * 0x1.0p-24f;
        const float r = std::sqrt(-2.0f * std::log(u1));
        const float t = 6.28318530717958647692f * u2;
        BOOST_TEST(normal_at<float>(s, i) == (i % 2 == 0 ? r * std::cos(t) : r * std::sin(t)));
        // randint with a power-of-two range rejects nothing: low + w[0] % range of block offset + i.
        const philox4x32_ctr wi = philox4x32_10(philox_counter(s.offset + i, s.stream), key);
        BOOST_TEST(randint_at<std::int64_t>(s, i, -8, 8) == -8 + static_cast<std::int64_t>(wi.v[0] % 16));
    }
}

BOOST_AUTO_TEST_CASE(fills_equal_element_functions) {
    const std::size_t n = 1003; // not a multiple of any K
    philox_generator g(99, stream_id("test"), 17);
    const philox_state s0 = g.state();

    std::vector<float> uf(n);
    fill_uniform(std::span(uf), g, -2.0f, 3.0f);
    std::vector<double> ud(n);
    const philox_state s1 = g.state();
    fill_uniform(std::span(ud), g, 1.0, 1.5);
    std::vector<float> nf(n);
    const philox_state s2 = g.state();
    fill_normal(std::span(nf), g, 0.5f, 2.0f);
    std::vector<double> nd(n);
    const philox_state s3 = g.state();
    fill_normal(std::span(nd), g, -1.0, 0.25);
    std::vector<std::uint8_t> be(n);
    const philox_state s4 = g.state();
    fill_bernoulli(std::span(be), g, 0.7);
    std::vector<std::int32_t> ri(n);
    const philox_state s5 = g.state();
    fill_randint(std::span(ri), g, -5, 1000);
    std::vector<bfloat16> nb(n);
    const philox_state s6 = g.state();
    fill_normal(std::span(nb), g, 1.0f, 3.0f);

    int mismatches = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        mismatches += uf[i] != uniform_at<float>(s0, i, -2.0f, 3.0f);
        mismatches += ud[i] != uniform_at<double>(s1, i, 1.0, 1.5);
        mismatches += nf[i] != normal_at<float>(s2, i, 0.5f, 2.0f);
        mismatches += nd[i] != normal_at<double>(s3, i, -1.0, 0.25);
        mismatches += be[i] != bernoulli_at<std::uint8_t>(s4, i, 0.7);
        mismatches += ri[i] != randint_at<std::int32_t>(s5, i, -5, 1000);
        mismatches += nb[i].bits != normal_at<bfloat16>(s6, i, 1.0f, 3.0f).bits;
        mismatches += nb[i].bits != bfloat16(normal_at<float>(s6, i, 1.0f, 3.0f)).bits;
    }
    BOOST_TEST(mismatches == 0);
}

BOOST_AUTO_TEST_CASE(offset_advances_by_blocks_used) {
    philox_generator g(1);
    std::vector<float> f(10);
    fill_uniform(std::span(f), g);
    BOOST_TEST(g.offset() == 3u); // ceil(10 / 4)
    std::vector<double> d(10);
    fill_uniform(std::span(d), g);
    BOOST_TEST(g.offset() == 8u); // + ceil(10 / 2)
    fill_normal(std::span(d), g);
    BOOST_TEST(g.offset() == 13u);
    fill_normal(std::span(f), g);
    BOOST_TEST(g.offset() == 16u);
    std::vector<int> i(10);
    fill_bernoulli(std::span(i), g, 0.5);
    BOOST_TEST(g.offset() == 19u);
    fill_randint(std::span(i), g, 0, 3);
    BOOST_TEST(g.offset() == 29u);
    (void)permutation(10, g);
    BOOST_TEST(g.offset() == 39u);
    fill_uniform(std::span<float>(), g);
    BOOST_TEST(g.offset() == 39u);
    BOOST_TEST(g.seed() == 1u);
    BOOST_TEST(g.stream_id() == 0u);
}

// ---- Invariance -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(thread_count_invariance) {
    // Large enough that the parallel region is active (>= detail::parallel_min_blocks blocks).
    const std::size_t n = 100'003;
    auto run = [&](int threads) {
        return with_threads(threads, [&] {
            philox_generator g(2024, stream_id("noise/clip", 3), 5);
            std::vector<float> uf(n);
            fill_uniform(std::span(uf), g);
            std::vector<double> nd(n);
            fill_normal(std::span(nd), g);
            std::vector<float> nf(n);
            fill_normal(std::span(nf), g, 0.0f, 1.0f);
            std::vector<std::int64_t> ri(n);
            fill_randint(std::span(ri), g, 0, 3'000'000'001);
            std::vector<std::uint8_t> be(n);
            fill_bernoulli(std::span(be), g, 0.1);
            return std::make_tuple(uf, nd, nf, ri, be, g.state());
        });
    };
    const auto one = run(1);
    for (int threads : {2, 3}) {
        const auto other = run(threads);
        BOOST_TEST(bitwise_equal(std::get<0>(one), std::get<0>(other)));
        BOOST_TEST(bitwise_equal(std::get<1>(one), std::get<1>(other)));
        BOOST_TEST(bitwise_equal(std::get<2>(one), std::get<2>(other)));
        BOOST_TEST(bitwise_equal(std::get<3>(one), std::get<3>(other)));
        BOOST_TEST(bitwise_equal(std::get<4>(one), std::get<4>(other)));
        BOOST_TEST((std::get<5>(one) == std::get<5>(other)));
    }
}

BOOST_AUTO_TEST_CASE(element_i_does_not_depend_on_fill_length) {
    const philox_state start{7, stream_id("dropout"), 0};
    std::vector<float> all(1000);
    philox_generator g1(start);
    fill_normal(std::span(all), g1);
    for (std::size_t len : {1u, 3u, 400u, 401u, 999u}) {
        std::vector<float> part(len);
        philox_generator g2(start);
        fill_normal(std::span(part), g2);
        BOOST_TEST(
            bitwise_equal(part, std::vector<float>(all.begin(), all.begin() + static_cast<long>(len))));
    }
}

BOOST_AUTO_TEST_CASE(successive_fills_concatenate_when_aligned_to_blocks) {
    const philox_state start{7, stream_id("dropout"), 0};
    std::vector<float> all(1000);
    philox_generator g1(start);
    fill_uniform(std::span(all), g1);

    // 400 is a multiple of K = 4: 400 then 600 is the fill of 1000.
    philox_generator g2(start);
    std::vector<float> a(400);
    std::vector<float> b(600);
    fill_uniform(std::span(a), g2);
    fill_uniform(std::span(b), g2);
    a.insert(a.end(), b.begin(), b.end());
    BOOST_TEST(bitwise_equal(a, all));
    BOOST_TEST((g2.state() == g1.state()));

    // 401 is not: the second fill starts at the next whole block, element 404 of the long fill, and
    // the three unused lanes of block 100 are never handed out.
    philox_generator g3(start);
    std::vector<float> c(401);
    std::vector<float> d(596);
    fill_uniform(std::span(c), g3);
    fill_uniform(std::span(d), g3);
    BOOST_TEST(bitwise_equal(c, std::vector<float>(all.begin(), all.begin() + 401)));
    BOOST_TEST(bitwise_equal(d, std::vector<float>(all.begin() + 404, all.end())));
}

BOOST_AUTO_TEST_CASE(successive_draws_do_not_repeat) {
    philox_generator g(5);
    std::vector<float> a(64);
    std::vector<float> b(64);
    fill_uniform(std::span(a), g);
    fill_uniform(std::span(b), g);
    int equal = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        equal += a[i] == b[i];
    }
    BOOST_TEST(equal < 3);
}

// ---- Streams and state ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(fnv1a_and_stream_ids) {
    // Published FNV-1a 64 test vectors.
    static_assert(fnv1a_64("") == 0xcbf29ce484222325ull);
    static_assert(fnv1a_64("a") == 0xaf63dc4c8601ec8cull);
    static_assert(fnv1a_64("foobar") == 0x85944171f73967e8ull);
    // stream_id hashes the name and then the index's 8 little-endian bytes as one string.
    constexpr char bytes[] = {'n', 'o', 'i', 's', 'e', '/', 'c', 'l', 'i', 'p', 3, 1, 0, 0, 0, 0, 0, 0};
    static_assert(stream_id("noise/clip", 0x103) == fnv1a_64(std::string_view(bytes, sizeof bytes)));
    BOOST_TEST(stream_id("noise/clip", 0) != stream_id("noise/clip", 1));
    BOOST_TEST(stream_id("noise/clip", 0) != stream_id("dropout", 0));
    BOOST_TEST(stream_id("data/order") != stream_id("data/order", 1));
}

BOOST_AUTO_TEST_CASE(named_streams_are_independent_of_parent) {
    const philox_generator root(42);
    philox_generator moved(42, 999, 12345);
    const philox_generator a = root.stream("noise/clip", 4);
    const philox_generator b = moved.stream("noise/clip", 4);
    BOOST_TEST((a.state() == b.state()));
    BOOST_TEST((a.state() == philox_state{42, stream_id("noise/clip", 4), 0}));

    // Different clips, different names, different seeds: different values.
    auto draw = [](philox_generator g) {
        std::vector<float> v(256);
        fill_normal(std::span(v), g);
        return v;
    };
    const auto clip4 = draw(a);
    const auto clip5 = draw(root.stream("noise/clip", 5));
    const auto dropout = draw(root.stream("dropout", 4));
    const auto other_seed = draw(philox_generator(43).stream("noise/clip", 4));
    BOOST_TEST(!bitwise_equal(clip4, clip5));
    BOOST_TEST(!bitwise_equal(clip4, dropout));
    BOOST_TEST(!bitwise_equal(clip4, other_seed));
    // Sample correlation of two streams is near 0 (|r| < 5 / sqrt(n)).
    double sxy = 0;
    for (std::size_t i = 0; i < clip4.size(); ++i) {
        sxy += static_cast<double>(clip4[i]) * clip5[i];
    }
    BOOST_TEST(std::abs(sxy / static_cast<double>(clip4.size())) < 5.0 / std::sqrt(256.0));
}

BOOST_AUTO_TEST_CASE(state_round_trip) {
    philox_generator g = philox_generator(11).stream("augment", 2);
    std::vector<double> warmup(33);
    fill_normal(std::span(warmup), g);
    const philox_state saved = g.state(); // what a checkpoint stores

    std::vector<double> a(100);
    fill_normal(std::span(a), g);
    const philox_state after = g.state();

    philox_generator restored(saved);
    std::vector<double> b(100);
    fill_normal(std::span(b), restored);
    BOOST_TEST(bitwise_equal(a, b));
    BOOST_TEST((restored.state() == after));

    g.set_state(saved);
    std::vector<double> c(100);
    fill_normal(std::span(c), g);
    BOOST_TEST(bitwise_equal(a, c));

    philox_generator t(3);
    const philox_state taken = t.take(10);
    BOOST_TEST(taken.offset == 0u);
    BOOST_TEST(t.offset() == 10u);
}

// ---- Argument checks ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bad_arguments_throw_and_draw_nothing) {
    philox_generator g(1);
    std::vector<float> f(8);
    std::vector<int> i(8);
    BOOST_CHECK_THROW(fill_uniform(std::span(f), g, 1.0f, 0.0f), std::invalid_argument);
    BOOST_CHECK_THROW(fill_uniform(std::span(f), g, 0.0f, std::numeric_limits<float>::infinity()),
                      std::invalid_argument);
    BOOST_CHECK_THROW(fill_normal(std::span(f), g, 0.0f, -1.0f), std::invalid_argument);
    BOOST_CHECK_THROW(fill_bernoulli(std::span(i), g, 1.5), std::invalid_argument);
    BOOST_CHECK_THROW(fill_bernoulli(std::span(i), g, std::nan("")), std::invalid_argument);
    BOOST_CHECK_THROW(fill_randint(std::span(i), g, 3, 3), std::invalid_argument);
    BOOST_CHECK_THROW((void)permutation(-1, g), std::invalid_argument);
    BOOST_TEST(g.offset() == 0u);
}

// ---- Statistics -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(normal_moments) {
    const std::size_t n = 1'000'000;
    philox_generator g = philox_generator(314).stream("stats/normal");
    const double sn = std::sqrt(static_cast<double>(n));
    {
        std::vector<float> v(n);
        fill_normal(std::span(v), g, 3.0f, 2.0f);
        const double m = mean_of(v);
        const double var = variance_of(v, m);
        // Standard errors: of the mean sigma / sqrt(n), of the variance sigma^2 sqrt(2 / n).
        BOOST_TEST(std::abs(m - 3.0) < 5 * 2.0 / sn);
        BOOST_TEST(std::abs(var - 4.0) < 5 * 4.0 * std::sqrt(2.0) / sn);
        BOOST_TEST(std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); }));
    }
    {
        std::vector<double> v(n);
        fill_normal(std::span(v), g);
        const double m = mean_of(v);
        const double var = variance_of(v, m);
        BOOST_TEST(std::abs(m) < 5 / sn);
        BOOST_TEST(std::abs(var - 1.0) < 5 * std::sqrt(2.0) / sn);
        // Tail mass beyond 2 sigma is 4.55 %; its standard error sqrt(p (1 - p) / n).
        const auto beyond = std::count_if(v.begin(), v.end(), [](double x) { return std::abs(x) > 2.0; });
        const double p = 0.0455003;
        BOOST_TEST(std::abs(static_cast<double>(beyond) / n - p) < 5 * std::sqrt(p * (1 - p) / n));
    }
}

BOOST_AUTO_TEST_CASE(uniform_range_and_moments) {
    const std::size_t n = 1'000'000;
    philox_generator g = philox_generator(271).stream("stats/uniform");
    std::vector<float> f(n);
    fill_uniform(std::span(f), g);
    BOOST_TEST(std::all_of(f.begin(), f.end(), [](float x) { return x >= 0.0f && x < 1.0f; }));
    BOOST_TEST(std::abs(mean_of(f) - 0.5) < 5 * std::sqrt(1.0 / 12.0 / n));

    std::vector<double> d(n);
    fill_uniform(std::span(d), g, -3.0, 5.0);
    BOOST_TEST(std::all_of(d.begin(), d.end(), [](double x) { return x >= -3.0 && x < 5.0; }));
    BOOST_TEST(std::abs(mean_of(d) - 1.0) < 5 * 8.0 * std::sqrt(1.0 / 12.0 / n));

    // A range of a few ulp: rounding would hit `high` often without the half-open guard.
    const float lo = 1.0f;
    const float hi = std::nextafter(std::nextafter(1.0f, 2.0f), 2.0f);
    std::vector<float> narrow(10'000);
    fill_uniform(std::span(narrow), g, lo, hi);
    BOOST_TEST(std::all_of(narrow.begin(), narrow.end(), [&](float x) { return x >= lo && x < hi; }));
    // low == high is allowed and gives low.
    fill_uniform(std::span(narrow), g, 2.0f, 2.0f);
    BOOST_TEST(std::all_of(narrow.begin(), narrow.end(), [](float x) { return x == 2.0f; }));
}

BOOST_AUTO_TEST_CASE(bernoulli_frequency) {
    const std::size_t n = 1'000'000;
    philox_generator g = philox_generator(161).stream("stats/bernoulli");
    std::vector<std::uint8_t> v(n);
    fill_bernoulli(std::span(v), g, 0.3);
    const double freq = mean_of(v);
    BOOST_TEST(std::abs(freq - 0.3) < 5 * std::sqrt(0.3 * 0.7 / n));
    // bool masks (std::vector<bool> has no contiguous storage, hence an array).
    auto mask = std::make_unique<bool[]>(n);
    philox_generator g_mask = philox_generator(161).stream("stats/bernoulli");
    fill_bernoulli(std::span<bool>(mask.get(), n), g_mask, 0.3);
    BOOST_TEST(
        std::equal(v.begin(), v.end(), mask.get(), [](std::uint8_t x, bool y) { return (x != 0) == y; }));
    std::vector<float> z(1000);
    fill_bernoulli(std::span(z), g, 0.0);
    BOOST_TEST(std::all_of(z.begin(), z.end(), [](float x) { return x == 0.0f; }));
    fill_bernoulli(std::span(z), g, 1.0);
    BOOST_TEST(std::all_of(z.begin(), z.end(), [](float x) { return x == 1.0f; }));
}

BOOST_AUTO_TEST_CASE(randint_is_unbiased) {
    philox_generator g = philox_generator(577).stream("stats/randint");
    {
        // Chi-square over 10 values, 9 degrees of freedom: P(chi2 > 50) < 1e-6.
        const std::size_t n = 200'000;
        std::vector<std::int32_t> v(n);
        fill_randint(std::span(v), g, -4, 6);
        std::vector<std::int64_t> counts(10);
        bool in_range = true;
        for (std::int32_t x : v) {
            in_range = in_range && x >= -4 && x < 6;
            counts[static_cast<std::size_t>(std::clamp(x + 4, 0, 9))] += 1;
        }
        BOOST_TEST(in_range);
        BOOST_TEST(chi_square(counts, static_cast<double>(n) / 10) < 50.0);
        BOOST_TEST(std::all_of(counts.begin(), counts.end(), [](std::int64_t c) { return c > 0; }));
    }
    {
        // Range 3 * 2^30: a plain x % range would give [0, 2^30) probability 1/2 instead of 1/3.
        const std::size_t n = 300'000;
        const std::int64_t range = 3ll << 30;
        std::vector<std::int64_t> v(n);
        fill_randint(std::span(v), g, 0, range);
        std::vector<std::int64_t> thirds(3);
        for (std::int64_t x : v) {
            thirds[static_cast<std::size_t>(std::clamp<std::int64_t>(x >> 30, 0, 2))] += 1;
        }
        BOOST_TEST(*std::max_element(v.begin(), v.end()) < range);
        BOOST_TEST(chi_square(thirds, static_cast<double>(n) / 3) < 30.0);
    }
    {
        // 64-bit path: range 3 * 2^40, same test on the top bits.
        const std::size_t n = 300'000;
        const std::int64_t range = 3ll << 40;
        std::vector<std::int64_t> v(n);
        fill_randint(std::span(v), g, -range, 0);
        std::vector<std::int64_t> thirds(3);
        bool in_range = true;
        for (std::int64_t x : v) {
            in_range = in_range && x >= -range && x < 0;
            thirds[static_cast<std::size_t>(std::clamp<std::int64_t>((x + range) >> 40, 0, 2))] += 1;
        }
        BOOST_TEST(in_range);
        BOOST_TEST(chi_square(thirds, static_cast<double>(n) / 3) < 30.0);
    }
    {
        // The full int64 range minus one value, and single-value ranges.
        std::vector<std::int64_t> v(1000);
        const std::int64_t lo = std::numeric_limits<std::int64_t>::min();
        const std::int64_t hi = std::numeric_limits<std::int64_t>::max();
        fill_randint(std::span(v), g, lo, hi);
        BOOST_TEST(std::all_of(v.begin(), v.end(), [&](std::int64_t x) { return x < hi; }));
        BOOST_TEST(std::count_if(v.begin(), v.end(), [](std::int64_t x) { return x < 0; }) > 400);
        fill_randint(std::span(v), g, 41, 42);
        BOOST_TEST(std::all_of(v.begin(), v.end(), [](std::int64_t x) { return x == 41; }));
    }
}

BOOST_AUTO_TEST_CASE(permutations) {
    const philox_generator root(8);
    philox_generator a = root.stream("data/order", 0);
    const std::vector<index_t> p = permutation(1000, a);
    std::vector<index_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    std::vector<index_t> iota(1000);
    std::iota(iota.begin(), iota.end(), index_t{0});
    BOOST_TEST((sorted == iota));
    BOOST_TEST((p != iota));

    philox_generator a2 = root.stream("data/order", 0);
    BOOST_TEST((permutation(1000, a2) == p)); // deterministic
    philox_generator b = root.stream("data/order", 1);
    BOOST_TEST((permutation(1000, b) != p)); // another epoch, another order
    BOOST_TEST((permutation(1000, a) != p)); // the next draw of the same stream differs too

    philox_generator e = root.stream("edge");
    BOOST_TEST(permutation(0, e).empty());
    BOOST_TEST((permutation(1, e) == std::vector<index_t>{0}));

    // All 6 orders of 3 elements equally likely: chi-square, 5 degrees of freedom, P(> 40) < 1e-6.
    philox_generator s = root.stream("stats/permutation");
    std::map<std::vector<index_t>, std::int64_t> seen;
    const int n = 60'000;
    for (int k = 0; k < n; ++k) {
        seen[permutation(3, s)] += 1;
    }
    BOOST_TEST(seen.size() == 6u);
    std::vector<std::int64_t> counts;
    for (const auto& [order, count] : seen) {
        counts.push_back(count);
    }
    BOOST_TEST(chi_square(counts, n / 6.0) < 40.0);
}

// ---- Tensor overloads -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(tensor_overloads_match_span_fills) {
    const philox_state start{21, stream_id("noise/clip", 0), 0};
    Tensor<float, 3> t(shape_t<3>{2, 3, 5});
    philox_generator g1(start);
    fill_normal(t, g1, 0.0f, 1.0f);
    fill_uniform(t, g1); // the second fill overwrites; check the state and values of both paths
    std::vector<float> ref(30);
    philox_generator g2(start);
    fill_normal(std::span(ref), g2, 0.0f, 1.0f);
    fill_uniform(std::span(ref), g2);
    BOOST_TEST((g1.state() == g2.state()));
    BOOST_TEST(std::equal(ref.begin(), ref.end(), t.data()));

    Tensor<std::int64_t, 2> r(shape_t<2>{4, 4});
    fill_randint(r, g1, 0, 10);
    std::vector<std::int64_t> rref(16);
    fill_randint(std::span(rref), g2, 0, 10);
    BOOST_TEST(std::equal(rref.begin(), rref.end(), r.data()));

    Tensor<double, 1> m(shape_t<1>{9});
    fill_bernoulli(m, g1, 0.5);
    std::vector<double> mref(9);
    fill_bernoulli(std::span(mref), g2, 0.5);
    BOOST_TEST(std::equal(mref.begin(), mref.end(), m.data()));
    BOOST_TEST((g1.state() == g2.state()));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
