#pragma once

#include <stdexcept>
#include <string>

namespace cinediff::io {

// Every failure to read or write a tensor file. The message starts with the file's path, then names
// the field, tensor or member and the offending value, so a user can find the problem without a
// debugger: "model.safetensors: tensor 'conv.weight': data_offsets [0, 100] do not match ...".
class file_error : public std::runtime_error {
  public:
    file_error(const std::string& path, const std::string& what)
        : std::runtime_error(path + ": " + what), m_path(path) {}

    const std::string& path() const noexcept { return m_path; }

  private:
    std::string m_path;
};

} // namespace cinediff::io
