// A small JSON reader for the test-vector manifest and safetensors headers.
#pragma once
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  double number = 0;
  bool boolean = false;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  bool has(const std::string& k) const { return kind == kObject && object.count(k) != 0; }
  const Json& operator[](const std::string& k) const {
    auto it = object.find(k);
    if (kind != kObject || it == object.end()) throw std::runtime_error("JSON: no key " + k);
    return it->second;
  }
  double num() const {
    if (kind == kBool) return boolean ? 1 : 0;
    if (kind != kNumber) throw std::runtime_error("JSON: not a number");
    return number;
  }
  std::vector<long> ints() const {
    std::vector<long> v;
    for (const Json& x : array) v.push_back(long(x.num()));
    return v;
  }

  static Json parse(const std::string& text) {
    size_t i = 0;
    Json v = value(text, i);
    return v;
  }

 private:
  static void ws(const std::string& s, size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  static std::string str(const std::string& s, size_t& i) {
    std::string out;
    ++i;  // opening quote
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        ++i;
        char c = s[i];
        if (c == 'u') {  // keep ASCII, replace others: keys and names here are ASCII
          out += char(std::strtol(s.substr(i + 1, 4).c_str(), nullptr, 16) & 0x7F);
          i += 4;
        } else {
          out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
        }
      } else {
        out += s[i];
      }
      ++i;
    }
    ++i;
    return out;
  }
  static Json value(const std::string& s, size_t& i) {
    ws(s, i);
    if (i >= s.size()) throw std::runtime_error("JSON: unexpected end");
    Json v;
    const char c = s[i];
    if (c == '{') {
      v.kind = kObject;
      ++i;
      ws(s, i);
      if (s[i] == '}') return ++i, v;
      for (;;) {
        ws(s, i);
        std::string k = str(s, i);
        ws(s, i);
        ++i;  // ':'
        v.object[k] = value(s, i);
        ws(s, i);
        if (s[i++] == '}') return v;
      }
    }
    if (c == '[') {
      v.kind = kArray;
      ++i;
      ws(s, i);
      if (s[i] == ']') return ++i, v;
      for (;;) {
        v.array.push_back(value(s, i));
        ws(s, i);
        if (s[i++] == ']') return v;
      }
    }
    if (c == '"') {
      v.kind = kString;
      v.string = str(s, i);
      return v;
    }
    if (s.compare(i, 4, "true") == 0) return i += 4, v.kind = kBool, v.boolean = true, v;
    if (s.compare(i, 5, "false") == 0) return i += 5, v.kind = kBool, v;
    if (s.compare(i, 4, "null") == 0) return i += 4, v;
    if (s.compare(i, 8, "Infinity") == 0) return i += 8, v.kind = kNumber, v.number = HUGE_VAL, v;
    if (s.compare(i, 9, "-Infinity") == 0) return i += 9, v.kind = kNumber, v.number = -HUGE_VAL, v;
    if (s.compare(i, 3, "NaN") == 0) return i += 3, v.kind = kNumber, v.number = NAN, v;
    char* end = nullptr;
    v.kind = kNumber;
    v.number = std::strtod(s.c_str() + i, &end);
    if (end == s.c_str() + i) throw std::runtime_error("JSON: bad value at " + std::to_string(i));
    i = size_t(end - s.c_str());
    return v;
  }
};
