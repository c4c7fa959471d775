// Typed exceptions thrown by the molearn library. Only the CLI turns them into
// messages and exit codes.
#pragma once

#include <stdexcept>
#include <string>

namespace molearn {

// Base of every error the library throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Something the user gave us is wrong: a missing file, an empty selection,
// incompatible options.
class InputError : public Error {
 public:
  using Error::Error;
};

// A file exists but its content is not what its format requires (truncated,
// corrupt, inconsistent). The message names the file and the frame or line.
class FormatError : public InputError {
 public:
  using InputError::InputError;
};

// An atom selection that cannot be parsed or selects nothing.
class SelectionError : public InputError {
 public:
  using InputError::InputError;
};

// A result could not be written (unwritable folder, full disk).
class OutputError : public Error {
 public:
  using Error::Error;
};

// Training produced a non-finite loss; the last good checkpoint is kept.
class TrainingDivergedError : public Error {
 public:
  using Error::Error;
};

// Functionality that exists in the interface but is not implemented yet.
class NotImplementedError : public Error {
 public:
  using Error::Error;
};

}  // namespace molearn
