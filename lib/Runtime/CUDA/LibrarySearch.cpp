//===- LibrarySearch.cpp - Finding CUDA libraries at run time -------------===//

#include "mpc/Runtime/CUDA/LibrarySearch.h"

#include <algorithm>
#include <cstdlib>
#include <dlfcn.h>
#include <glob.h>
#include <sys/stat.h>

namespace mpc::runtime::cuda {

const char *const kLoaderSearch = "<dynamic loader search path>";

EnvLookup processEnv() {
  return [](const char *name) {
    const char *value = std::getenv(name);
    return std::string(value ? value : "");
  };
}

namespace {

bool isDirectory(const std::string &path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool isFile(const std::string &path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && !S_ISDIR(info.st_mode);
}

std::vector<std::string> splitColons(const std::string &list) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(':', start);
    if (end == std::string::npos)
      end = list.size();
    if (end > start)
      parts.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::vector<std::string> globDirs(const std::string &pattern) {
  std::vector<std::string> found;
  glob_t matches;
  if (glob(pattern.c_str(), GLOB_ONLYDIR, nullptr, &matches) == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i)
      found.emplace_back(matches.gl_pathv[i]);
  }
  globfree(&matches);
  return found;
}

std::vector<std::string> pythonSiteDirs(const EnvLookup &env) {
  std::vector<std::string> patterns;
  for (const char *prefixVar : {"VIRTUAL_ENV", "CONDA_PREFIX"}) {
    std::string prefix = env(prefixVar);
    if (!prefix.empty())
      patterns.push_back(prefix + "/lib/python3*/site-packages");
  }
  for (const std::string &dir : splitColons(env("PYTHONPATH")))
    patterns.push_back(dir);
  std::string home = env("HOME");
  if (!home.empty())
    patterns.push_back(home + "/.local/lib/python3*/site-packages");
  for (const char *pattern :
       {"/usr/local/lib/python3*/site-packages",
        "/usr/local/lib/python3*/dist-packages",
        "/usr/lib/python3*/site-packages", "/usr/lib/python3*/dist-packages",
        "/usr/lib/python3/dist-packages"})
    patterns.emplace_back(pattern);
  std::vector<std::string> dirs;
  for (const std::string &pattern : patterns)
    for (std::string &dir : globDirs(pattern))
      dirs.push_back(std::move(dir));
  return dirs;
}

} // namespace

std::vector<std::string>
cudaLibrarySearchPlaces(const std::vector<std::string> &wheelSubdirs,
                        const EnvLookup &env) {
  std::vector<std::string> places;
  auto add = [&](const std::string &dir) {
    if (dir == kLoaderSearch || isDirectory(dir))
      if (std::find(places.begin(), places.end(), dir) == places.end())
        places.push_back(dir);
  };
  for (const std::string &dir : splitColons(env("MPC_CUDA_LIB_PATH")))
    add(dir);
  add(kLoaderSearch);
  std::string cudaHome = env("CUDA_HOME");
  if (!cudaHome.empty())
    add(cudaHome + "/lib64");
  add("/usr/local/cuda/lib64");
  for (const std::string &site : pythonSiteDirs(env))
    for (const std::string &subdir : wheelSubdirs)
      add(site + "/" + subdir);
  return places;
}

LoadedLibrary loadCudaLibrary(const std::string &soname, const std::string &what,
                              const std::vector<std::string> &wheelSubdirs,
                              const EnvLookup &env) {
  LoadedLibrary result;
  std::string searched, failures;
  for (const std::string &place : cudaLibrarySearchPlaces(wheelSubdirs, env)) {
    searched += (searched.empty() ? "" : ", ") + place;
    bool viaLoader = place == kLoaderSearch;
    std::string path = viaLoader ? soname : place + "/" + soname;
    if (!viaLoader && !isFile(path))
      continue;
    if (void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      result.handle = handle;
      result.path = path;
      return result;
    }
    const char *why = dlerror();
    if (!viaLoader) {
      failures += "; " + path + " did not load: " + (why ? why : "?");
    }
  }
  result.error = what + " not found: " + soname + " is in none of: " +
                 searched + failures +
                 " (set MPC_CUDA_LIB_PATH to the folder that has it)";
  return result;
}

} // namespace mpc::runtime::cuda
