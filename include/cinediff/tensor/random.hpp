#pragma once

// Counter-based random numbers: Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC'11) and the distributions built on it.
//
// Why counter-based: a value is a pure function of (seed, stream, offset, element index), so a fill
// gives bit-identical results for any OpenMP thread count or chunking, and a CUDA thread can compute
// element i alone without a sequential state walk. The exact mapping is part of the API; it is
// restated in docs/numerics.md and must not change without a version note, because checkpoints and
// golden files depend on it.
//
// ---- The mapping --------------------------------------------------------------------------------
// key     = (lo32(seed), hi32(seed))
// counter = (lo32(b), hi32(b), lo32(stream), hi32(stream)),   b = offset + i / K   ("block" b)
// block   = philox4x32_10(counter, key) = four 32-bit words w[0..3]
// A fill of n elements starting at generator state (seed, stream, offset) uses the blocks
// offset .. offset + ceil(n / K) - 1, element i reads lane i % K of block offset + i / K, and the
// generator's offset then advances by ceil(n / K). K (values per block) and the lane -> words map,
// where hi:lo is the uint64 hi * 2^32 + lo and float(w) rounds to nearest:
//
//   distribution          K  element lane l of the block
//   uniform<float>        4  u = (w[l] >> 8) * 2^-24                                    in [0, 1)
//   uniform<double>       2  u = (w[2l+1]:w[2l] >> 11) * 2^-53                           in [0, 1)
//                            [low, high): fma(high - low, u, low), and a result that rounds up to
//                            high is replaced by the largest representable value below high.
//   normal<float>         4  Box-Muller on the pair p = l / 2:
//   (also bfloat16,          u1 = float(w[2p]) * 2^-32 + 2^-33 (in float, in (0, 1]),
//    float16: computed       u2 = (w[2p+1] >> 8) * 2^-24,  r = sqrt(-2 ln u1),  t = 2 pi u2,
//    in float, rounded)      z = r cos t for even l, r sin t for odd l;  value = fma(std, z, mean)
//   normal<double>        2  u1 = (w[1]:w[0] >> 11) * 2^-53 + 2^-54,  u2 = (w[3]:w[2] >> 11) * 2^-53,
//                            z = r cos t for l = 0, r sin t for l = 1
//   bernoulli(p)          4  1 if double(w[l]) < p * 2^32 else 0   (exact: P = ceil(p 2^32) / 2^32)
//   randint(low, high)    1  range r = high - low. Rejection sampling, unbiased: candidates are
//                            the 32-bit words w[0..3] (r <= 2^32) or the 64-bit words
//                            (w[1]:w[0]), (w[3]:w[2]) (r > 2^32); a candidate x is accepted when
//                            x >= (2^bits mod r), giving low + x mod r. When a whole block is
//                            rejected, the next candidates come from philox4x32_10(w, key), and
//                            so on; still a pure function of the element index.
//   permutation(n)        1  Fisher-Yates, host only: for i = n-1 .. 1, swap a[i] and a[j] with
//                            j = randint_at(state, i, 0, i + 1), i.e. block offset + i. The draws
//                            are counter-based; the swaps are sequential.
//
// Chunking: element i of a fill of n depends on (seed, stream, offset, i) only, never on n. Two
// successive fills of n1 then n2 elements equal one fill of n1 + n2 exactly when n1 is a multiple of
// K: the unused lanes of a partial last block are skipped, never handed to the next fill.
//
// Streams: stream ids are 64-bit, usually stream_id("noise/clip", clip_index) = FNV-1a 64 of the
// name's bytes followed by the index's 8 bytes (little-endian). Different streams use disjoint
// counters, so noise, dropout and data order drawn from different names never overlap. Philox is a
// bijection of the counter for a fixed key, so no two (stream, block) pairs ever yield the same
// block under one seed.
//
// Host vs device: the 32-bit words, uniform, bernoulli, randint and permutation are bitwise
// identical everywhere. Normal values go through log, sqrt, sin and cos, which libm and CUDA's
// libdevice round differently in the last bits; they agree to a few ulp, not bitwise.

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <cinediff/config.hpp>
#include <cinediff/tensor/dtype.hpp>
#include <cinediff/tensor/shape.hpp>

namespace cinediff {

// ---- Philox-4x32-10 ---------------------------------------------------------------------------

// Plain aggregates rather than std::array so that they are usable in device code without
// --expt-relaxed-constexpr.
struct philox4x32_ctr {
    std::uint32_t v[4];
    CINEDIFF_HOST_DEVICE constexpr std::uint32_t operator[](int i) const { return v[i]; }
    friend constexpr bool operator==(const philox4x32_ctr&, const philox4x32_ctr&) = default;
};

struct philox4x32_key {
    std::uint32_t v[2];
    CINEDIFF_HOST_DEVICE constexpr std::uint32_t operator[](int i) const { return v[i]; }
    friend constexpr bool operator==(const philox4x32_key&, const philox4x32_key&) = default;
};

namespace detail {

// Multipliers and Weyl key increments of Philox-4x32 (Random123's PHILOX_M4x32_*, PHILOX_W32_*).
inline constexpr std::uint32_t philox_m0 = 0xD2511F53u;
inline constexpr std::uint32_t philox_m1 = 0xCD9E8D57u;
inline constexpr std::uint32_t philox_w0 = 0x9E3779B9u;
inline constexpr std::uint32_t philox_w1 = 0xBB67AE85u;

CINEDIFF_HOST_DEVICE constexpr philox4x32_ctr philox_round(const philox4x32_ctr& c, const philox4x32_key& k) {
    // A 64-bit product gives both halves; nvcc lowers it to mul.lo/mul.hi.
    const std::uint64_t p0 = static_cast<std::uint64_t>(philox_m0) * c.v[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(philox_m1) * c.v[2];
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32);
    const auto lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32);
    const auto lo1 = static_cast<std::uint32_t>(p1);
    return {{hi1 ^ c.v[1] ^ k.v[0], lo1, hi0 ^ c.v[3] ^ k.v[1], lo0}};
}

} // namespace detail

// The Philox-4x32 bijection with 10 rounds; equal to Random123's r123::Philox4x32_R<10>.
CINEDIFF_HOST_DEVICE constexpr philox4x32_ctr philox4x32_10(philox4x32_ctr ctr, philox4x32_key key) {
    ctr = detail::philox_round(ctr, key);
    for (int r = 1; r < 10; ++r) {
        key.v[0] += detail::philox_w0;
        key.v[1] += detail::philox_w1;
        ctr = detail::philox_round(ctr, key);
    }
    return ctr;
}

CINEDIFF_HOST_DEVICE constexpr philox4x32_key philox_key(std::uint64_t seed) {
    return {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
}

CINEDIFF_HOST_DEVICE constexpr philox4x32_ctr philox_counter(std::uint64_t block, std::uint64_t stream) {
    return {{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
             static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)}};
}

// ---- Streams and generator state ----------------------------------------------------------------

// FNV-1a, 64-bit. Continuing from `basis` lets stream_id hash the name and the index as one string.
constexpr std::uint64_t fnv1a_64(std::string_view bytes, std::uint64_t basis = 0xcbf29ce484222325ull) {
    std::uint64_t h = basis;
    for (char c : bytes) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

// Stream id of a named stream: FNV-1a 64 of the name's bytes followed by the 8 bytes of `index`,
// least significant first. Reproducible from Python with a few lines, and usable as a constant.
constexpr std::uint64_t stream_id(std::string_view name, std::uint64_t index = 0) {
    std::uint64_t h = fnv1a_64(name);
    for (int b = 0; b < 8; ++b) {
        h ^= (index >> (8 * b)) & 0xffu;
        h *= 0x100000001b3ull;
    }
    return h;
}

// Everything needed to reproduce the next draws, e.g. for a checkpoint. `offset` counts Philox
// blocks already used in this stream (as PyTorch's Philox offset counts them).
struct philox_state {
    std::uint64_t seed = 0;
    std::uint64_t stream = 0;
    std::uint64_t offset = 0;
    friend constexpr bool operator==(const philox_state&, const philox_state&) = default;
};

// Computes the block b of a state's stream: the one function every distribution reads from.
CINEDIFF_HOST_DEVICE constexpr philox4x32_ctr philox_block(const philox_state& s, std::uint64_t block_index) {
    return philox4x32_10(philox_counter(s.offset + block_index, s.stream), philox_key(s.seed));
}

// A (seed, stream, offset) triple that hands out disjoint ranges of blocks. Not thread-safe: each
// thread that draws owns its generator (typically one per named stream).
class philox_generator {
  public:
    explicit constexpr philox_generator(std::uint64_t seed, std::uint64_t stream = 0,
                                        std::uint64_t offset = 0)
        : m_state{seed, stream, offset} {}
    explicit constexpr philox_generator(const philox_state& state) : m_state(state) {}

    // A new generator, same seed, on the stream stream_id(name, index), at offset 0. Stream names
    // form one flat space: the result does not depend on this generator's own stream or offset, so
    // a stream can be re-created anywhere from the seed and its name.
    constexpr philox_generator stream(std::string_view name, std::uint64_t index = 0) const {
        return philox_generator(m_state.seed, ::cinediff::stream_id(name, index), 0);
    }

    constexpr std::uint64_t seed() const { return m_state.seed; }
    constexpr std::uint64_t stream_id() const { return m_state.stream; }
    constexpr std::uint64_t offset() const { return m_state.offset; }
    constexpr const philox_state& state() const { return m_state; }
    constexpr void set_state(const philox_state& state) { m_state = state; }

    // Reserves `blocks` blocks: returns the state a fill (or a device kernel) computes from, and
    // moves the offset past them so that the next draw does not repeat them.
    constexpr philox_state take(std::uint64_t blocks) {
        const philox_state start = m_state;
        m_state.offset += blocks;
        return start;
    }

  private:
    philox_state m_state;
};

// Blocks a fill of n values uses at K values per block.
constexpr std::uint64_t philox_blocks(std::uint64_t n, std::uint64_t per_block) {
    return (n + per_block - 1) / per_block;
}

// ---- Values per block (the K of the mapping) ----------------------------------------------------

template <class T>
concept uniform_real = std::same_as<T, float> || std::same_as<T, double>;

template <class T>
concept normal_real = uniform_real<T> || std::same_as<T, bfloat16> || std::same_as<T, float16>;

template <uniform_real T>
inline constexpr std::uint64_t uniform_per_block = sizeof(T) == 8 ? 2 : 4;
template <normal_real T>
inline constexpr std::uint64_t normal_per_block = std::same_as<T, double> ? 2 : 4;
inline constexpr std::uint64_t bernoulli_per_block = 4;
inline constexpr std::uint64_t randint_per_block = 1;
inline constexpr std::uint64_t permutation_per_block = 1;

// ---- Word -> value conversions ------------------------------------------------------------------

// [0, 1) with 24 random bits: every value is exact in float, and 1 is never produced.
CINEDIFF_HOST_DEVICE constexpr float u32_to_unit_float(std::uint32_t x) {
    return static_cast<float>(x >> 8) * 0x1.0p-24f;
}

// [0, 1) with 53 random bits.
CINEDIFF_HOST_DEVICE constexpr double u64_to_unit_double(std::uint64_t x) {
    return static_cast<double>(x >> 11) * 0x1.0p-53;
}

namespace detail {

CINEDIFF_HOST_DEVICE constexpr std::uint64_t join64(std::uint32_t lo, std::uint32_t hi) {
    return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

template <uniform_real T>
CINEDIFF_HOST_DEVICE T scale_uniform(T u, T low, T high) {
    // An explicit fma: whether a compiler contracts a * b + c (nvcc does by default, GCC with
    // -ffp-contract=fast) must not change the bits.
    if (low == T(0) && high == T(1)) {
        return u; // the common case, and the fma below would give u exactly anyway
    }
    T r = std::fma(high - low, u, low);
    // The result can round up to high although u < 1; keep the interval half-open.
    if (r >= high && high > low) {
        r = std::nextafter(high, low);
    }
    return r;
}

} // namespace detail

namespace detail {

// Lane `lane` of block w, as in the mapping table. Shared by the element functions and the fills so
// that the two cannot drift apart.
template <uniform_real T>
CINEDIFF_HOST_DEVICE T uniform_from_block(const philox4x32_ctr& w, int lane, T low, T high) {
    if constexpr (std::same_as<T, float>) {
        return scale_uniform(u32_to_unit_float(w.v[lane]), low, high);
    } else {
        return scale_uniform(u64_to_unit_double(join64(w.v[2 * lane], w.v[2 * lane + 1])), low, high);
    }
}

template <normal_real T>
CINEDIFF_HOST_DEVICE T normal_from_block(const philox4x32_ctr& w, int lane, compute_type_t<T> mean,
                                         compute_type_t<T> stddev) {
    if constexpr (std::same_as<T, double>) {
        const double u1 = u64_to_unit_double(join64(w.v[0], w.v[1])) + 0x1.0p-54;
        const double u2 = u64_to_unit_double(join64(w.v[2], w.v[3]));
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double t = 6.283185307179586476925 * u2;
        return std::fma(stddev, lane == 0 ? r * std::cos(t) : r * std::sin(t), mean);
    } else {
        const int p = lane / 2;
        // (0, 1]: log never sees 0, and the tail reaches sqrt(2 ln 2^33) = 6.8 sigma. Same form as
        // cuRAND's _curand_uniform, so the two agree on the transform.
        const float u1 = static_cast<float>(w.v[2 * p]) * 0x1.0p-32f + 0x1.0p-33f;
        const float u2 = u32_to_unit_float(w.v[2 * p + 1]);
        const float r = std::sqrt(-2.0f * std::log(u1));
        const float t = 6.28318530717958647692f * u2;
        const float z = (lane % 2 == 0) ? r * std::cos(t) : r * std::sin(t);
        return static_cast<T>(std::fma(stddev, z, mean));
    }
}

} // namespace detail

// ---- Element functions: value i of a fill that started at state s --------------------------------
// The reference definitions: the host fills below compute the same values block by block, and a
// CUDA kernel calls these per element with s = generator.take(philox_blocks(n, K)).

template <uniform_real T>
CINEDIFF_HOST_DEVICE T uniform_at(const philox_state& s, std::uint64_t i, T low = T(0), T high = T(1)) {
    constexpr std::uint64_t k = uniform_per_block<T>;
    return detail::uniform_from_block(philox_block(s, i / k), static_cast<int>(i % k), low, high);
}

template <normal_real T>
CINEDIFF_HOST_DEVICE T normal_at(const philox_state& s, std::uint64_t i, compute_type_t<T> mean = 0,
                                 compute_type_t<T> stddev = 1) {
    constexpr std::uint64_t k = normal_per_block<T>;
    return detail::normal_from_block<T>(philox_block(s, i / k), static_cast<int>(i % k), mean, stddev);
}

template <class T>
CINEDIFF_HOST_DEVICE T bernoulli_at(const philox_state& s, std::uint64_t i, double p = 0.5) {
    const philox4x32_ctr w = philox_block(s, i / bernoulli_per_block);
    const std::uint32_t x = w.v[i % bernoulli_per_block];
    // p * 2^32 is exact (a power-of-two scale) and every uint32 is exact in double.
    return static_cast<double>(x) < p * 0x1.0p32 ? static_cast<T>(1) : static_cast<T>(0);
}

namespace detail {

// Unbiased integer in [0, range), range >= 1: see the mapping table at the top.
CINEDIFF_HOST_DEVICE inline std::uint64_t bounded_from_block(philox4x32_ctr w, const philox4x32_key& key,
                                                             std::uint64_t range) {
    if (range <= 0x100000000ull) {
        // Reject the lowest (2^32 mod range) values so that the rest split evenly into range classes.
        const std::uint64_t threshold = 0x100000000ull % range;
        for (;;) {
            for (int l = 0; l < 4; ++l) {
                if (w.v[l] >= threshold) {
                    return w.v[l] % range;
                }
            }
            w = philox4x32_10(w, key);
        }
    }
    const std::uint64_t threshold = (0 - range) % range; // 2^64 mod range
    for (;;) {
        for (int l = 0; l < 2; ++l) {
            const std::uint64_t x = join64(w.v[2 * l], w.v[2 * l + 1]);
            if (x >= threshold) {
                return x % range;
            }
        }
        w = philox4x32_10(w, key);
    }
}

} // namespace detail

// Uniform integer in [low, high); requires low < high (the fills check it).
template <class T>
CINEDIFF_HOST_DEVICE T randint_at(const philox_state& s, std::uint64_t i, std::int64_t low,
                                  std::int64_t high) {
    const std::uint64_t range = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
    const std::uint64_t x = detail::bounded_from_block(philox_block(s, i), philox_key(s.seed), range);
    return static_cast<T>(static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + x));
}

// ---- Host fills over raw memory -------------------------------------------------------------------
// Each fill reserves philox_blocks(n, K) blocks from the generator and computes block by block in
// parallel; because every value is a pure function of its index, the result is the same for any
// thread count. Arguments are checked before anything is drawn, so a throw leaves the generator as
// it was.

namespace detail {

// Below this many blocks a parallel region costs more than it saves.
inline constexpr std::int64_t parallel_min_blocks = 2048;

// Calls body(block_index, first_element, count) for every block of a fill of n at K per block.
template <std::uint64_t K, class Body>
void for_each_block(std::uint64_t n, Body&& body) {
    const auto blocks = static_cast<std::int64_t>(philox_blocks(n, K));
    CINEDIFF_OMP(omp parallel for schedule(static) if (blocks >= parallel_min_blocks))
    for (std::int64_t b = 0; b < blocks; ++b) {
        const std::uint64_t first = static_cast<std::uint64_t>(b) * K;
        const std::uint64_t count = n - first < K ? n - first : K;
        body(static_cast<std::uint64_t>(b), first, static_cast<int>(count));
    }
}

inline void check_probability(double p, const char* what) {
    if (!(p >= 0.0 && p <= 1.0)) {
        throw std::invalid_argument(std::string(what) + ": probability " + std::to_string(p) +
                                    " is not in [0, 1]");
    }
}

} // namespace detail

template <uniform_real T>
void fill_uniform(std::span<T> out, philox_generator& gen, std::type_identity_t<T> low = T(0),
                  std::type_identity_t<T> high = T(1)) {
    if (!(std::isfinite(low) && std::isfinite(high) && low <= high && std::isfinite(high - low))) {
        throw std::invalid_argument("fill_uniform: need finite low <= high, got [" + std::to_string(low) +
                                    ", " + std::to_string(high) + ")");
    }
    constexpr std::uint64_t k = uniform_per_block<T>;
    const philox_state s = gen.take(philox_blocks(out.size(), k));
    T* const data = out.data();
    detail::for_each_block<k>(out.size(), [&](std::uint64_t b, std::uint64_t first, int count) {
        const philox4x32_ctr w = philox_block(s, b);
        for (int l = 0; l < count; ++l) {
            data[first + l] = detail::uniform_from_block(w, l, low, high);
        }
    });
}

template <normal_real T>
void fill_normal(std::span<T> out, philox_generator& gen, std::type_identity_t<compute_type_t<T>> mean = 0,
                 std::type_identity_t<compute_type_t<T>> stddev = 1) {
    if (!(std::isfinite(mean) && std::isfinite(stddev) && stddev >= 0)) {
        throw std::invalid_argument("fill_normal: need finite mean and std >= 0, got mean " +
                                    std::to_string(mean) + ", std " + std::to_string(stddev));
    }
    constexpr std::uint64_t k = normal_per_block<T>;
    const philox_state s = gen.take(philox_blocks(out.size(), k));
    T* const data = out.data();
    detail::for_each_block<k>(out.size(), [&](std::uint64_t b, std::uint64_t first, int count) {
        const philox4x32_ctr w = philox_block(s, b);
        for (int l = 0; l < count; ++l) {
            data[first + l] = detail::normal_from_block<T>(w, l, mean, stddev);
        }
    });
}

template <class T>
requires std::is_arithmetic_v<T>
void fill_bernoulli(std::span<T> out, philox_generator& gen, double p = 0.5) {
    detail::check_probability(p, "fill_bernoulli");
    constexpr std::uint64_t k = bernoulli_per_block;
    const philox_state s = gen.take(philox_blocks(out.size(), k));
    T* const data = out.data();
    const double threshold = p * 0x1.0p32;
    detail::for_each_block<k>(out.size(), [&](std::uint64_t b, std::uint64_t first, int count) {
        const philox4x32_ctr w = philox_block(s, b);
        for (int l = 0; l < count; ++l) {
            data[first + l] = static_cast<double>(w.v[l]) < threshold ? static_cast<T>(1) : static_cast<T>(0);
        }
    });
}

// Uniform integers in [low, high), converted to T (the caller picks a T that holds the range).
template <class T>
requires std::is_arithmetic_v<T>
void fill_randint(std::span<T> out, philox_generator& gen, std::int64_t low, std::int64_t high) {
    if (!(low < high)) {
        throw std::invalid_argument("fill_randint: need low < high, got [" + std::to_string(low) + ", " +
                                    std::to_string(high) + ")");
    }
    const philox_state s = gen.take(philox_blocks(out.size(), randint_per_block));
    T* const data = out.data();
    detail::for_each_block<randint_per_block>(out.size(), [&](std::uint64_t b, std::uint64_t first, int) {
        data[first] = randint_at<T>(s, b, low, high);
    });
}

// A uniformly random permutation of 0 .. n-1 (Fisher-Yates; see the mapping table). Sequential:
// meant for data order and index shuffles, not for large tensors.
inline void fill_permutation(std::span<index_t> out, philox_generator& gen) {
    const auto n = static_cast<std::uint64_t>(out.size());
    const philox_state s = gen.take(philox_blocks(n, permutation_per_block));
    std::iota(out.begin(), out.end(), index_t{0});
    for (std::uint64_t i = n; i-- > 1;) {
        const auto j = randint_at<std::uint64_t>(s, i, 0, static_cast<std::int64_t>(i + 1));
        std::swap(out[i], out[j]);
    }
}

inline std::vector<index_t> permutation(index_t n, philox_generator& gen) {
    if (n < 0) {
        throw std::invalid_argument("permutation: negative length " + std::to_string(n));
    }
    std::vector<index_t> out(static_cast<std::size_t>(n));
    fill_permutation(out, gen);
    return out;
}

} // namespace cinediff
