#pragma once
// The common currency of the data family: an ordered sequence of 2-D frames (video frames,
// cine phases or the slices of a volume) with the metadata a reader could recover.
// Every reader returns it, every writer and clip sampler takes it.

#include <array>
#include <cstdint>
#include <string>

#include <cinediff/tensor/tensor.hpp>

namespace cinediff::data {

// What a sequence's first axis means; decides how spacing/time metadata is read.
enum class sequence_axis { time, slice };

struct sequence_metadata {
    std::string source; // file or folder the frames came from
    std::string format; // reader that produced them, e.g. "nifti", "dicom", "video"
    sequence_axis axis = sequence_axis::time;
    // Physical size of one pixel, (row spacing, column spacing) in millimetres; 0 where unknown.
    std::array<double, 2> pixel_spacing{0.0, 0.0};
    double slice_spacing = 0.0; // millimetres between slices; 0 where unknown or not a volume
    double frame_rate = 0.0;    // frames per second; 0 where unknown or not a time series
    // Anatomical orientation of (column, row, frame) axes as a three-letter code ("RAS", "LPS");
    // empty where the format has none.
    std::string orientation;
    // Value range of the stored samples before any conversion (after DICOM rescale slope/intercept).
    double original_min = 0.0;
    double original_max = 0.0;
    int bits_stored = 0; // 8, 12, 16, 32 ...; 0 where the format does not say
    std::string patient_id;
    std::string series_id;
};

// frames: (frames, channels, height, width), float32 in the original value units (exact for
// samples of up to 24 bits), channels = 1 for grey and 3 for RGB.
struct sequence {
    Tensor<float, 4> frames;
    sequence_metadata meta;
};

} // namespace cinediff::data
