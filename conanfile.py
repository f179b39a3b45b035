# Conan 2 recipe for cinediff, in the conan-center-index shape of a header library.
#
# The Conan client cannot be installed on the project's build machines (no PyPI access), so this
# recipe is not exercised by CI; the CMake consumer test (tests/package, run by ctest) builds the
# same test_package sources against a fresh `cmake --install` and stands in for `conan create`.
import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class CinediffConan(ConanFile):
    name = "cinediff"
    description = ("Controllable generative augmentation of medical sequences: a C++20 tensor "
                   "expression DSL, diffusion, attention, state-space and VAE modules")
    license = "Apache-2.0"
    url = "https://github.com/conan-io/conan-center-index"
    topics = ("tensor", "diffusion", "medical-imaging", "header-only", "deep-learning")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    no_copy_source = True

    def layout(self):
        basic_layout(self, src_folder="src")

    def requirements(self):
        self.requires("eigen/3.4.0", transitive_headers=True)
        self.requires("xtensor/0.24.3", transitive_headers=True)
        self.requires("range-v3/0.12.0", transitive_headers=True)
        # Thrust comes from the CUDA toolkit (CCCL) or the system (libthrust-dev): a system
        # prerequisite, found by cinediff-config.cmake, not modelled as a Conan requirement.

    def build_requirements(self):
        self.test_requires("boost/1.83.0")

    def package_id(self):
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 20)

    def source(self):
        pass  # exported with the recipe: the sources are this repository

    def export_sources(self):
        copy(self, "include/*", self.recipe_folder, self.export_sources_folder)
        copy(self, "LICENSE", self.recipe_folder, self.export_sources_folder)

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))
        copy(self, "*.cuh", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "cinediff")
        self.cpp_info.set_property("cmake_target_name", "cinediff::cinediff")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.requires = ["eigen::eigen", "xtensor::xtensor", "range-v3::range-v3"]
        if self.settings.os in ["Linux", "FreeBSD"]:
            self.cpp_info.system_libs = ["m"]
            self.cpp_info.cxxflags = ["-fopenmp"]
            self.cpp_info.sharedlinkflags = ["-fopenmp"]
            self.cpp_info.exelinkflags = ["-fopenmp"]
