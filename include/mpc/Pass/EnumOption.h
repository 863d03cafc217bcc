//===- EnumOption.h - enum pass options that name their values --*- C++ -*-===//
//
// A pass option of enum type (`Option<"x", "x", "::mpc::E", ...,
// [{::llvm::cl::values(...)}]>`) is parsed by llvm::cl::parser<E>, whose
// error for an unknown value is only "Cannot find option named 'x'!".
// MPC_ENUM_OPTION(E) specializes that parser's parse() so that the error
// lists the valid values instead. It must be visible wherever the option
// is declared: each library's enum header uses it right after its enums,
// and Passes.h includes that header before the generated declarations.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_PASS_ENUMOPTION_H
#define MPC_PASS_ENUMOPTION_H

#include "llvm/Support/CommandLine.h"

#include <string>

namespace mpc {

/// llvm::cl::parser<E>::parse for enum E: sets `value` to the entry named
/// `arg`, or reports an error listing every entry. True on error, as
/// llvm::cl's parsers return.
template <typename E>
bool parseEnumOption(llvm::cl::generic_parser_base &parser, llvm::cl::Option &option,
                     llvm::StringRef arg, E &value) {
  unsigned index = parser.findOption(arg);
  unsigned count = parser.getNumOptions();
  if (index < count) {
    value = static_cast<const llvm::cl::OptionValue<E> &>(parser.getOptionValue(index)).getValue();
    return false;
  }
  std::string valid;
  for (unsigned i = 0; i < count; ++i)
    valid += (i == 0 ? "" : i + 1 == count ? " and " : ", ") + parser.getOption(i).str();
  return option.error("unknown value '" + arg + "'; valid values are " + valid);
}

} // namespace mpc

/// Makes the option parser of enum `E` report unknown values with the list
/// of valid ones (at global scope, after E is declared).
#define MPC_ENUM_OPTION(E)                                                          \
  template <>                                                                       \
  inline bool llvm::cl::parser<E>::parse(llvm::cl::Option &option, llvm::StringRef, \
                                         llvm::StringRef arg, E &value) {           \
    return ::mpc::parseEnumOption(*this, option, arg, value);                       \
  }

#endif // MPC_PASS_ENUMOPTION_H
