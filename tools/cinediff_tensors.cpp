// cinediff-tensors: inspect and convert .npy / .npz / .safetensors files.
//
//   cinediff-tensors info FILE          JSON description of every tensor on stdout
//   cinediff-tensors convert IN OUT     format chosen by OUT's extension, dtypes kept
//
// Exit status 0 on success, 2 on bad input or usage, with a single line on stderr. The output of
// convert is written atomically, so a failure leaves nothing behind.
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cinediff/io/error.hpp>
#include <cinediff/io/tensor_file.hpp>

namespace {

constexpr int exit_bad_input = 2;

int fail(const std::string& message) {
    std::string line = message;
    for (char& c : line) { // one line, whatever the message holds
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    std::cerr << "cinediff-tensors: " << line << '\n';
    return exit_bad_input;
}

nlohmann::ordered_json describe(const std::string& path, const cinediff::io::tensor_file& file) {
    nlohmann::ordered_json out;
    out["file"] = path;
    out["format"] = std::string(cinediff::io::format_name(file.format));
    nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
    for (const auto& record : file.records) {
        nlohmann::ordered_json t;
        t["name"] = record.name;
        t["dtype"] = std::string(cinediff::dtype_name(record.type));
        t["shape"] = record.shape;
        t["bytes"] = record.bytes.size();
        tensors.push_back(std::move(t));
    }
    out["tensors"] = std::move(tensors);
    out["metadata"] = file.metadata;
    return out;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Inspect and convert .npy, .npz and .safetensors tensor files", "cinediff-tensors"};
    app.require_subcommand(1);

    std::string info_path;
    auto* info = app.add_subcommand("info", "Print every tensor's name, dtype, shape and byte size as JSON");
    info->add_option("FILE", info_path, "a .npy, .npz or .safetensors file")->required();

    std::string in_path;
    std::string out_path;
    bool compress = false;
    auto* convert =
        app.add_subcommand("convert", "Convert between formats (by OUT's extension), dtypes kept");
    convert->add_option("IN", in_path, "input file")->required();
    convert->add_option("OUT", out_path, "output file: .npy, .npz or .safetensors")->required();
    convert->add_flag("--compress", compress, "deflate the members of an .npz output");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return fail(e.what());
    }

    try {
        if (*info) {
            const auto file = cinediff::io::read_tensor_file(info_path);
            // replace: a name that is not UTF-8 (raw bytes in a zip) must not abort the listing.
            std::cout << describe(info_path, file)
                             .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                      << '\n';
            return 0;
        }
        const auto file = cinediff::io::read_tensor_file(in_path);
        if (compress && cinediff::io::format_from_extension(out_path) != cinediff::io::tensor_format::npz) {
            return fail("--compress applies only to an .npz output, not " + out_path);
        }
        cinediff::io::write_tensor_file(out_path, file, compress);
        return 0;
    } catch (const std::exception& e) { // file_error and, say, bad_alloc: still one line, no crash
        return fail(e.what());
    }
}
