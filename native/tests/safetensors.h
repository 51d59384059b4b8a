// Reads a safetensors file: u64 header length, JSON header {name: {dtype, shape, data_offsets}},
// then the data. Tensors are returned as raw bytes with dtype and shape.
#pragma once
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "json.h"
#include "ptk/common.h"

struct Tensor {
  std::string dtype;  // "BF16", "F32", "I32", ...
  std::vector<long> shape;
  std::vector<char> bytes;

  size_t numel() const {
    size_t n = 1;
    for (long d : shape) n *= size_t(d);
    return n;
  }
  // Values as double (BF16, F32, I32).
  std::vector<double> values() const {
    std::vector<double> v(numel());
    for (size_t i = 0; i < v.size(); ++i) {
      if (dtype == "BF16") {
        uint16_t b;
        std::memcpy(&b, bytes.data() + 2 * i, 2);
        v[i] = ptk::bf16_to_float(b);
      } else if (dtype == "F32") {
        float f;
        std::memcpy(&f, bytes.data() + 4 * i, 4);
        v[i] = f;
      } else if (dtype == "I32") {
        int32_t x;
        std::memcpy(&x, bytes.data() + 4 * i, 4);
        v[i] = x;
      } else {
        throw std::runtime_error("unsupported dtype " + dtype);
      }
    }
    return v;
  }
  std::vector<int32_t> ints() const {
    if (dtype != "I32") throw std::runtime_error("not I32");
    std::vector<int32_t> v(numel());
    if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * 4);
    return v;
  }
};

inline std::map<std::string, Tensor> read_safetensors(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string raw = ss.str();
  uint64_t n = 0;
  if (raw.size() < 8) throw std::runtime_error("short file " + path);
  std::memcpy(&n, raw.data(), 8);  // little endian, as every supported host
  if (8 + n > raw.size()) throw std::runtime_error("bad header length in " + path);
  const Json header = Json::parse(raw.substr(8, n));
  const size_t data = 8 + n;
  std::map<std::string, Tensor> out;
  for (const auto& [name, info] : header.object) {
    if (name == "__metadata__") continue;
    Tensor t;
    t.dtype = info["dtype"].string;
    t.shape = info["shape"].ints();
    const std::vector<long> off = info["data_offsets"].ints();
    if (off.size() != 2 || off[0] > off[1] || data + off[1] > raw.size())
      throw std::runtime_error("bad data_offsets for " + name + " in " + path);
    t.bytes.assign(raw.begin() + data + off[0], raw.begin() + data + off[1]);
    out[name] = std::move(t);
  }
  return out;
}
