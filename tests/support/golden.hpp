#pragma once

// Reading golden reference files (safetensors written by the scripts in tests/golden) and
// comparing results with the suite's tolerances.
#include <cinediff/io/safetensors.hpp>
#include <cinediff/io/tensor_conversion.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace cinediff::test {

class golden_file {
  public:
    // `relative` is below tests/golden, e.g. "nn/conv.safetensors".
    explicit golden_file(const std::string& relative)
        : m_path(std::string(CINEDIFF_TEST_SOURCE_DIR) + "/golden/" + relative),
          m_file(io::read_safetensors(m_path)) {
        for (std::size_t i = 0; i < m_file.records.size(); ++i) {
            m_index[m_file.records[i].name] = i;
        }
    }

    bool has(const std::string& name) const { return m_index.count(name) != 0; }

    template <class T, std::size_t Rank>
    Tensor<T, Rank> get(const std::string& name) const {
        const auto it = m_index.find(name);
        if (it == m_index.end()) {
            throw std::runtime_error(m_path + ": no tensor named '" + name + "'");
        }
        return io::to_tensor<T, Rank>(m_file.records[it->second]);
    }

    // Names of all cases: the distinct prefixes before the first '.' ("case3.input" -> "case3").
    std::vector<std::string> cases() const {
        std::vector<std::string> out;
        for (const auto& r : m_file.records) {
            const std::string prefix = r.name.substr(0, r.name.find('.'));
            if (std::find(out.begin(), out.end(), prefix) == out.end()) {
                out.push_back(prefix);
            }
        }
        return out;
    }

    // Metadata values (the generator scripts store each case's attributes as JSON text here).
    std::string metadata(const std::string& key) const {
        const auto it = m_file.metadata.find(key);
        return it == m_file.metadata.end() ? std::string() : it->second;
    }

  private:
    std::string m_path;
    io::safetensors_file m_file;
    std::map<std::string, std::size_t> m_index;
};

// The suite's tolerance: float32 |got - ref| <= 1e-5 + 1e-4 |ref|; float64 1e-10 (+1e-10 |ref|).
template <class T>
struct tolerance {
    static constexpr double atol = std::is_same_v<T, double> ? 1e-10 : 1e-5;
    static constexpr double rtol = std::is_same_v<T, double> ? 1e-10 : 1e-4;
};

// Checks every element; reports the first failing index and the worst violation.
template <class T, std::size_t R>
void check_close(const Tensor<T, R>& got, const Tensor<T, R>& ref, const std::string& what,
                 double atol = tolerance<T>::atol, double rtol = tolerance<T>::rtol) {
    BOOST_TEST_CONTEXT(what) {
        BOOST_REQUIRE_MESSAGE(got.shape() == ref.shape(), what << ": shape " << shape_to_string(got.shape())
                                                                << " vs reference " << shape_to_string(ref.shape()));
        double worst = 0;
        index_t worst_i = -1;
        for (index_t i = 0; i < got.size(); ++i) {
            const double g = static_cast<double>(got.data()[i]);
            const double r = static_cast<double>(ref.data()[i]);
            const double excess = std::abs(g - r) - (atol + rtol * std::abs(r));
            if (!(excess <= 0) && (worst_i < 0 || excess > worst || std::isnan(excess))) {
                worst = std::isnan(excess) ? INFINITY : excess;
                worst_i = i;
            }
        }
        BOOST_TEST(worst_i < 0, what << ": element " << worst_i << " differs: got "
                                     << (worst_i >= 0 ? static_cast<double>(got.data()[worst_i]) : 0.0) << ", reference "
                                     << (worst_i >= 0 ? static_cast<double>(ref.data()[worst_i]) : 0.0));
    }
}

} // namespace cinediff::test
