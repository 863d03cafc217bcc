//===- CudaLibrarySearchTest.cpp - Finding CUDA libraries at run time -----===//

#include "mpc/Runtime/CUDA/LibrarySearch.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

using namespace mpc::runtime::cuda;

namespace {

class TempDir {
public:
  TempDir() {
    char pattern[] = "/tmp/mpc-libsearch-XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string make(const std::string &relative) const {
    std::string full = path + "/" + relative;
    std::system(("mkdir -p '" + full + "'").c_str());
    return full;
  }
  std::string path;
};

EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const char *name) {
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
  };
}

size_t indexOf(const std::vector<std::string> &places, const std::string &p) {
  for (size_t i = 0; i < places.size(); ++i)
    if (places[i] == p)
      return i;
  return size_t(-1);
}

TEST(CudaLibrarySearch, OrderOfPlaces) {
  TempDir tmp;
  std::string first = tmp.make("first"), second = tmp.make("second");
  std::string venvLib =
      tmp.make("venv/lib/python3.11/site-packages/nvidia/cublas/lib");
  std::string condaLib =
      tmp.make("conda/lib/python3.12/site-packages/nvidia/cu13/lib");
  std::string userLib =
      tmp.make("home/.local/lib/python3.11/site-packages/nvidia/cublas/lib");
  tmp.make("venv/lib/python3.11/site-packages/nvidia/cudnn/lib");
  std::vector<std::string> places = cudaLibrarySearchPlaces(
      {"nvidia/cublas/lib", "nvidia/cu13/lib"},
      fakeEnv({{"MPC_CUDA_LIB_PATH", first + ":" + tmp.path + "/missing:" +
                                         second + ":" + first},
               {"VIRTUAL_ENV", tmp.path + "/venv"},
               {"CONDA_PREFIX", tmp.path + "/conda"},
               {"HOME", tmp.path + "/home"}}));
  ASSERT_GE(places.size(), 6u);
  EXPECT_EQ(places[0], first);
  EXPECT_EQ(places[1], second); // missing folders and repeats are left out
  EXPECT_EQ(places[2], kLoaderSearch);
  size_t venv = indexOf(places, venvLib), conda = indexOf(places, condaLib),
         user = indexOf(places, userLib);
  ASSERT_NE(venv, size_t(-1));
  ASSERT_NE(conda, size_t(-1));
  ASSERT_NE(user, size_t(-1));
  EXPECT_LT(venv, conda);
  EXPECT_LT(conda, user);
  EXPECT_EQ(indexOf(places, tmp.path + "/venv/lib/python3.11/site-packages/"
                                       "nvidia/cudnn/lib"),
            size_t(-1)); // not asked for
  size_t toolkit = indexOf(places, "/usr/local/cuda/lib64");
  if (toolkit != size_t(-1)) {
    EXPECT_GT(toolkit, 2u);
    EXPECT_LT(toolkit, venv);
  }
}

TEST(CudaLibrarySearch, LoadsFromTheFirstPlaceThatHasIt) {
  TempDir tmp;
  std::string empty = tmp.make("empty"), lib = tmp.make("lib");
  // A real library under a name the loader's own search does not know.
  ASSERT_EQ(symlink("/lib/x86_64-linux-gnu/libz.so.1",
                    (lib + "/libmpcfake.so.7").c_str()),
            0);
  LoadedLibrary loaded = loadCudaLibrary(
      "libmpcfake.so.7", "fake", {},
      fakeEnv({{"MPC_CUDA_LIB_PATH", empty + ":" + lib}}));
  ASSERT_NE(loaded.handle, nullptr) << loaded.error;
  EXPECT_EQ(loaded.path, lib + "/libmpcfake.so.7");
  EXPECT_EQ(loaded.error, "");
}

TEST(CudaLibrarySearch, NamesThePlacesSearchedAndBrokenFiles) {
  TempDir tmp;
  std::string lib = tmp.make("lib");
  std::ofstream(lib + "/libmpcbroken.so.1") << "not an ELF file";
  LoadedLibrary loaded = loadCudaLibrary(
      "libmpcbroken.so.1", "Broken", {"nvidia/broken/lib"},
      fakeEnv({{"MPC_CUDA_LIB_PATH", lib}}));
  EXPECT_EQ(loaded.handle, nullptr);
  EXPECT_EQ(loaded.error.find("Broken not found: libmpcbroken.so.1 is in none "
                              "of: " + lib + ", " + kLoaderSearch),
            0u)
      << loaded.error;
  EXPECT_NE(loaded.error.find(lib + "/libmpcbroken.so.1 did not load: "),
            std::string::npos)
      << loaded.error;
  EXPECT_NE(loaded.error.find("set MPC_CUDA_LIB_PATH"), std::string::npos);
  EXPECT_EQ(loaded.error.find('\n'), std::string::npos);
}

} // namespace
