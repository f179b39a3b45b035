#pragma once

// The single source of the version number; CMakeLists.txt parses these three lines.
#define CINEDIFF_VERSION_MAJOR 0
#define CINEDIFF_VERSION_MINOR 1
#define CINEDIFF_VERSION_PATCH 0

namespace cinediff {
inline constexpr int version_major = CINEDIFF_VERSION_MAJOR;
inline constexpr int version_minor = CINEDIFF_VERSION_MINOR;
inline constexpr int version_patch = CINEDIFF_VERSION_PATCH;
} // namespace cinediff
